"""Admin routes (admin token): tokens and scene registration."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from server import auth, planning
from server.auth import AdminDep
from server.deps import CtxDep
from server.models import Problem, SceneIn, SceneRow, TokenIn, TokenOut
from server.store import NAME_PATTERN
from twin.errors import NotFound

router = APIRouter(
    prefix="/api/admin",
    tags=["admin"],
    responses={401: {"model": Problem}, 403: {"model": Problem}, 404: {"model": Problem}},
)


@router.get("/tokens", response_model=list[TokenOut], summary="All tokens (no secrets)")
def list_tokens(who: AdminDep, ctx: CtxDep) -> list[dict[str, Any]]:
    """Every token with its role, scenes and revocation time."""
    return ctx.db.tokens.all()


@router.post("/tokens", status_code=201, response_model=TokenOut, summary="Create a token")
def create_token(body: TokenIn, who: AdminDep, ctx: CtxDep) -> dict[str, Any]:
    """A new token; the secret is in the answer and nowhere else."""
    token_id, secret = auth.create_token(ctx.db, body.role, body.scenes, body.name)
    row = next(t for t in ctx.db.tokens.all() if t["id"] == token_id)
    return {**row, "token": secret}


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token")
def revoke_token(token_id: Annotated[int, Path(ge=1, le=2**62)], who: AdminDep, ctx: CtxDep) -> Response:
    """Revoke a token at once."""
    ctx.db.tokens.revoke(token_id)
    return Response(status_code=204)


@router.get("/scenes", response_model=list[SceneRow], summary="Registered scenes")
def list_scenes(who: AdminDep, ctx: CtxDep) -> list[dict[str, Any]]:
    """Every registered scene, published or not."""
    return ctx.db.scenes.all()


@router.put("/scenes/{scene}", response_model=SceneRow, responses={422: {"model": Problem}}, summary="Register a scene")
def put_scene(
    scene: Annotated[str, Path(pattern=NAME_PATTERN)], body: SceneIn, who: AdminDep, ctx: CtxDep
) -> dict[str, Any]:
    """Register (or update) a scene from its manifest."""
    return planning.register_scene(ctx, scene, body.title, body.manifest)


@router.delete("/scenes/{scene}", status_code=204, summary="Forget a scene")
def delete_scene(scene: Annotated[str, Path(pattern=NAME_PATTERN)], who: AdminDep, ctx: CtxDep) -> Response:
    """Remove a scene from the database and from the public API (its files stay on disk)."""
    ctx.db.scenes.delete(scene)
    with contextlib.suppress(NotFound):  # a forgotten scene must not keep serving tiles
        ctx.store.unpublish(scene)
    return Response(status_code=204)
