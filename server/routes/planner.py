"""Planner routes (bearer token): uploads, variants and placed designs, builds, publishing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from server import jobs, planner_map, planning, uploads
from server.auth import PlannerDep
from server.deps import BaseUrlDep, CtxDep
from server.errors import InsufficientStorage, PayloadTooLarge
from server.models import BuildOut, DesignIn, OverlapsIn, PlannerScene, Problem, UploadOut, VariantIn, VariantOut
from server.store import NAME_PATTERN

router = APIRouter(
    prefix="/api/planner",
    tags=["planner"],
    responses={401: {"model": Problem}, 403: {"model": Problem}, 404: {"model": Problem}},
)
SceneId = Annotated[str, Path(pattern=NAME_PATTERN)]
Name = Annotated[str, Path(pattern=NAME_PATTERN)]
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get("/scenes", summary="Scenes the caller may work on")
def my_scenes(who: PlannerDep, ctx: CtxDep) -> list[dict[str, Any]]:
    """Registered scenes within the token's scope, with their published build."""
    return [
        {**planning.public_scene_row(s), "published": ctx.store.published(s["id"])}
        for s in ctx.db.scenes.all()
        if who.may(s["id"])
    ]


@router.get("/scenes/{scene}", response_model=PlannerScene, summary="A scene with variants, uploads, builds")
def scene(scene: SceneId, who: PlannerDep, ctx: CtxDep, base: BaseUrlDep) -> dict[str, Any]:
    """Everything a planner needs on one page."""
    planning.scene_for(ctx, who, scene)
    return planning.planner_scene(ctx, scene, base)


@router.post(
    "/scenes/{scene}/uploads",
    status_code=201,
    response_model=UploadOut,
    openapi_extra=UPLOAD_BODY,
    responses={413: {"model": Problem}, 415: {"model": Problem}, 422: {"model": Problem}},
    summary="Upload a design file (raw body)",
)
async def upload(
    scene: SceneId,
    request: Request,
    who: PlannerDep,
    ctx: CtxDep,
    filename: Annotated[str, Query(max_length=200)] = "design",
) -> dict[str, Any]:
    """Stream the body to disk (size-limited), check it by parsing, store it whole or not at all."""
    planning.scene_for(ctx, who, scene)
    length = request.headers.get("content-length")
    declared = int(length) if length and length.isdigit() else None
    allowance = planning.upload_allowance(ctx, scene, declared)
    limit = min(ctx.settings.max_upload_bytes, allowance)
    try:
        return await uploads.store_upload(
            ctx.db,
            ctx.settings.data_dir,
            scene,
            filename,
            request.stream(),
            limit,
            ctx.settings.max_inflated_bytes,
            declared,
            uploads.reader_limits(ctx.settings),
            (ctx.settings.scene_quota_uploads, ctx.settings.scene_quota_bytes),
        )
    except PayloadTooLarge as exc:
        if limit < ctx.settings.max_upload_bytes:  # the quota, not the size limit, stopped it
            raise InsufficientStorage(f"the upload passes scene {scene!r}'s quota ({allowance} bytes left)") from exc
        raise


@router.get("/scenes/{scene}/uploads", response_model=list[UploadOut], summary="Uploads of a scene")
def list_uploads(scene: SceneId, who: PlannerDep, ctx: CtxDep) -> list[dict[str, Any]]:
    """Stored design files, oldest first."""
    planning.scene_for(ctx, who, scene)
    return ctx.db.uploads.of_scene(scene)


@router.delete(
    "/scenes/{scene}/uploads/{upload}", status_code=204, responses={409: {"model": Problem}}, summary="Delete an upload"
)
def delete_upload(scene: SceneId, upload: Name, who: PlannerDep, ctx: CtxDep) -> Response:
    """Delete a design file that no variant places."""
    planning.scene_for(ctx, who, scene)
    planning.delete_upload(ctx, scene, upload)
    return Response(status_code=204)


@router.put("/scenes/{scene}/variants/{variant}", response_model=VariantOut, summary="Create or edit a variant")
def put_variant(scene: SceneId, variant: Name, body: VariantIn, who: PlannerDep, ctx: CtxDep) -> dict[str, Any]:
    """Title and removed building ids of a variant."""
    planning.scene_for(ctx, who, scene)
    return planning.put_variant(ctx, scene, variant, body.title, body.removed)


@router.get("/scenes/{scene}/variants/{variant}", response_model=VariantOut, summary="A variant")
def get_variant(scene: SceneId, variant: Name, who: PlannerDep, ctx: CtxDep) -> dict[str, Any]:
    """One variant with its placed designs."""
    planning.scene_for(ctx, who, scene)
    return planning.variant_doc(ctx, scene, variant)


@router.delete("/scenes/{scene}/variants/{variant}", status_code=204, summary="Delete a variant")
def delete_variant(scene: SceneId, variant: Name, who: PlannerDep, ctx: CtxDep) -> Response:
    """Delete a variant and its placements; uploads stay."""
    planning.scene_for(ctx, who, scene)
    ctx.db.scenes.delete_variant(scene, variant)
    return Response(status_code=204)


@router.put(
    "/scenes/{scene}/variants/{variant}/designs/{design}",
    response_model=VariantOut,
    responses={422: {"model": Problem}},
    summary="Place a design",
)
def put_design(
    scene: SceneId, variant: Name, design: Name, body: DesignIn, who: PlannerDep, ctx: CtxDep
) -> dict[str, Any]:
    """Place an uploaded design into a variant (position of its origin or footprint centre, elevation, heading,
    scale) and say which overlapped buildings to keep or remove."""
    planning.scene_for(ctx, who, scene)
    return planning.place_design(
        ctx, scene, variant, design, body.upload, body.title, body.anchor, body.keep, body.remove
    )


@router.delete(
    "/scenes/{scene}/variants/{variant}/designs/{design}", status_code=204, summary="Remove a design from a variant"
)
def delete_design(scene: SceneId, variant: Name, design: Name, who: PlannerDep, ctx: CtxDep) -> Response:
    """Remove a placement (the upload stays)."""
    planning.scene_for(ctx, who, scene)
    ctx.db.scenes.delete_design(scene, variant, design)
    return Response(status_code=204)


@router.post("/scenes/{scene}/builds", status_code=202, response_model=BuildOut, summary="Start a build")
def start_build(scene: SceneId, who: PlannerDep, ctx: CtxDep, base: BaseUrlDep) -> dict[str, Any]:
    """Queue a build in a worker process; builds of one scene run one after the other."""
    planning.scene_for(ctx, who, scene)
    build = jobs.start_build(ctx.settings, ctx.db, scene)
    return planning.build_doc(ctx, ctx.db.builds.get(build), base)


@router.get("/scenes/{scene}/builds", response_model=list[BuildOut], summary="Latest builds")
def list_builds(scene: SceneId, who: PlannerDep, ctx: CtxDep, base: BaseUrlDep) -> list[dict[str, Any]]:
    """The latest builds, newest first (without logs)."""
    planning.scene_for(ctx, who, scene)
    jobs.reap(ctx.db, ctx.store)
    return [planning.build_doc(ctx, b, base) for b in ctx.db.builds.of_scene(scene)]


@router.get("/scenes/{scene}/builds/{build}", response_model=BuildOut, summary="A build with its log")
def get_build(scene: SceneId, build: Name, who: PlannerDep, ctx: CtxDep, base: BaseUrlDep) -> dict[str, Any]:
    """State, progress, stage and log of one build."""
    planning.scene_for(ctx, who, scene)
    jobs.reap(ctx.db, ctx.store)
    return planning.build_doc(ctx, ctx.db.builds.get(build, scene), base, with_log=True)


@router.get(
    "/scenes/{scene}/builds/{build}/streets",
    responses={409: {"model": Problem}},
    summary="Streets around a build (GeoJSON)",
)
def build_streets(scene: SceneId, build: Name, who: PlannerDep, ctx: CtxDep) -> dict[str, Any]:
    """Roads and paths with their names from the scene's OSM sources, around a succeeded build (for the map)."""
    planning.scene_for(ctx, who, scene)
    return planner_map.streets(ctx, scene, build)


@router.post(
    "/scenes/{scene}/builds/{build}/overlaps",
    responses={409: {"model": Problem}, 422: {"model": Problem}},
    summary="Buildings a placement would remove or keep",
)
def build_overlaps(scene: SceneId, build: Name, body: OverlapsIn, who: PlannerDep, ctx: CtxDep) -> dict[str, Any]:
    """The buildings of a succeeded build that a placement touches, with their share inside its site."""
    planning.scene_for(ctx, who, scene)
    return planner_map.overlaps(ctx, scene, build, body.upload, body.anchor, body.keep, body.remove)


@router.post(
    "/scenes/{scene}/builds/{build}/cancel",
    response_model=BuildOut,
    responses={409: {"model": Problem}},
    summary="Cancel a build",
)
def cancel_build(scene: SceneId, build: Name, who: PlannerDep, ctx: CtxDep, base: BaseUrlDep) -> dict[str, Any]:
    """Ask a queued or running build to stop."""
    planning.scene_for(ctx, who, scene)
    return planning.build_doc(ctx, jobs.cancel_build(ctx.db, scene, build), base)


@router.post(
    "/scenes/{scene}/builds/{build}/publish",
    response_model=BuildOut,
    responses={409: {"model": Problem}},
    summary="Publish a build",
)
def publish(scene: SceneId, build: Name, who: PlannerDep, ctx: CtxDep, base: BaseUrlDep) -> dict[str, Any]:
    """Make a succeeded build the public version of the scene (atomic)."""
    planning.scene_for(ctx, who, scene)
    return planning.publish(ctx, scene, build, base)


@router.delete("/scenes/{scene}/published", status_code=204, summary="Unpublish a scene")
def unpublish(scene: SceneId, who: PlannerDep, ctx: CtxDep) -> Response:
    """Take the scene off the public API (its builds stay)."""
    planning.scene_for(ctx, who, scene)
    ctx.store.unpublish(scene)
    return Response(status_code=204)
