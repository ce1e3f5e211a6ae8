"""What handlers get injected: the app's context (settings, database, store) as ``CtxDep``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from server.settings import Settings
from server.storage import Database
from server.store import SceneStore


@dataclass(frozen=True)
class Context:
    """Long-lived objects of one app."""

    settings: Settings
    db: Database
    store: SceneStore


def get_context(request: Request) -> Context:
    """The context stored on the app at creation."""
    ctx: Context = request.app.state.ctx
    return ctx


def base_url(request: Request) -> str:
    """The root URL for absolute links: the configured ``public_url``, else an allowed Host (Settings.base_url_for)."""
    settings: Settings = request.app.state.ctx.settings
    return settings.base_url_for(request.url.scheme, request.headers.get("host", ""))


CtxDep = Annotated[Context, Depends(get_context)]
BaseUrlDep = Annotated[str, Depends(base_url)]
