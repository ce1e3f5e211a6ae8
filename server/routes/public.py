"""Public routes: published scenes and their buildings (no login)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from server import scenes
from server.deps import BaseUrlDep, CtxDep
from server.models import Problem
from server.store import NAME_PATTERN

router = APIRouter(prefix="/api/scenes", tags=["public"], responses={404: {"model": Problem}})
SceneId = Annotated[str, Path(pattern=NAME_PATTERN, description="scene id")]


@router.get("", summary="Published scenes")
def list_scenes(ctx: CtxDep, base: BaseUrlDep) -> list[dict[str, Any]]:
    """Every published scene: its scene.json with absolute ``tileset_url`` for it and each variant."""
    return scenes.public_scenes(ctx.store, base)


@router.get("/{scene}", summary="One published scene")
def get_scene(scene: SceneId, ctx: CtxDep, base: BaseUrlDep) -> dict[str, Any]:
    """The scene's metadata: title, CRS, origin, bounds, attribution, variants with design metrics."""
    return scenes.public_scene(ctx.store, scene, base)


@router.get(
    "/{scene}/buildings",
    summary="Buildings in a bounding box (GeoJSON)",
    response_class=scenes.GeoJSONResponse,
    responses={400: {"model": Problem}, 200: {"content": {"application/geo+json": {}}}},
)
def get_buildings(
    scene: SceneId,
    ctx: CtxDep,
    bbox: Annotated[str, Query(description="west,south,east,north in degrees (WGS 84)", max_length=200)],
    limit: Annotated[int, Query(ge=1, le=scenes.MAX_FEATURES)] = scenes.MAX_FEATURES,
) -> Any:
    """Footprints (lon/lat) and properties of the published buildings that touch ``bbox``."""
    return scenes.GeoJSONResponse(scenes.buildings(ctx.store, scene, bbox, limit))
