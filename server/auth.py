"""Bearer tokens and roles: ``public`` (no token), ``planner`` (their scenes), ``moderator`` (participation in
their scenes), ``admin`` (everything).

A token is ``twin_`` + 32 random bytes (URL-safe base64); only its sha256 is stored, so a stolen database
does not give access. Planner tokens carry a list of scenes (``["*"]`` for all).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from server.errors import Unauthenticated
from server.storage import Database
from twin.errors import NotFound, PermissionDenied

ROLES = ("planner", "admin", "moderator")


def digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def create_token(db: Database, role: str, scenes: list[str], name: str) -> tuple[int, str]:
    """Make a token; returns (id, secret). The secret is shown once and never stored."""
    if role not in ROLES:
        raise PermissionDenied(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    secret = "twin_" + secrets.token_urlsafe(32)
    return db.tokens.add(name, digest(secret), role, scenes), secret


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: token id and name, role, and the scenes a planner may touch."""

    id: int
    name: str
    role: str
    scenes: tuple[str, ...]

    def may(self, scene: str) -> bool:
        """True if this caller may work on ``scene``."""
        return self.role == "admin" or "*" in self.scenes or scene in self.scenes

    def check_scene(self, scene: str) -> None:
        """Raise :class:`NotFound` for a scene outside the caller's scope (no hint that it exists)."""
        if not self.may(scene):
            raise NotFound(f"scene {scene!r} not found")


_bearer = HTTPBearer(auto_error=False, description="A token from `twin token create`.")


#: What :func:`create_token` makes: ``twin_`` and 43 URL-safe base64 characters. Anything else is refused
#: before the database is asked (so a malformed token is a 401 even when the database cannot be read).
TOKEN_RE = re.compile(r"^twin_[A-Za-z0-9_-]{43}$")


def principal_for(db: Database, authorization: str) -> Principal:
    """The caller named by an ``Authorization`` header value; :class:`Unauthenticated` unless it is valid."""
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
    if not TOKEN_RE.match(token):
        raise Unauthenticated("unknown or revoked token")
    row = db.tokens.by_digest(digest(token))
    if row is None:
        raise Unauthenticated("unknown or revoked token")
    return Principal(row["id"], row["name"], row["role"], tuple(row["scenes"]))


def authenticate(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The caller behind the bearer token; :class:`Unauthenticated` without a valid one."""
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise Unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
    return principal_for(request.app.state.db, f"Bearer {creds.credentials}")


def require_admin(who: Annotated[Principal, Depends(authenticate)]) -> Principal:
    """The caller, who must be an admin."""
    if who.role != "admin":
        raise PermissionDenied("this needs an admin token")
    return who


def require_planner(who: Annotated[Principal, Depends(authenticate)]) -> Principal:
    """The caller, who must be a planner or an admin (a moderator token only moderates)."""
    if who.role not in ("planner", "admin"):
        raise PermissionDenied("this needs a planner token")
    return who


def require_moderator(who: Annotated[Principal, Depends(authenticate)]) -> Principal:
    """The caller, who must be a moderator or an admin; the scene is checked by the handler."""
    if who.role not in ("moderator", "admin"):
        raise PermissionDenied("this needs a moderator token")
    return who


PlannerDep = Annotated[Principal, Depends(require_planner)]
ModeratorDep = Annotated[Principal, Depends(require_moderator)]
AdminDep = Annotated[Principal, Depends(require_admin)]
