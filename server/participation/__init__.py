"""Participation: citizens' contributions pinned in 3D, votes, replies, moderation and exports (issue 10).

``store`` owns the tables, ``rules`` what a contribution must be and who sees it, ``ratelimit`` the flood
guard, ``export`` GeoJSON/CSV/OGC; :func:`service` gives the one :class:`Participation` of an app.
"""

from __future__ import annotations

import threading

from fastapi import FastAPI

from server.participation.rules import Limits, Participation

__all__ = ["Limits", "Participation", "service"]

_lock = threading.Lock()


def service(app: FastAPI) -> Participation:
    """The app's participation service, made on first use over its database and store (rate limits live here)."""
    with _lock:
        found = getattr(app.state, "participation", None)
        if found is None:
            ctx = app.state.ctx
            found = app.state.participation = Participation(ctx.db.connection, ctx.store)
        return found
