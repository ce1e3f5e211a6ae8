"""Participation routes: citizens list, pin, vote and reply (no login); moderators moderate and export.

Also the OGC API – Features collection of a scene's visible contributions (``ogc_router``, registered before
the 3D GeoVolumes router so ``/ogc/collections/{scene}.contributions`` is found here).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from server import participation
from server.auth import ModeratorDep
from server.deps import BaseUrlDep
from server.models import Problem
from server.participation import export
from server.participation.models import (
    DEVICE_KEY_PATTERN,
    AnalogueIn,
    AnswerIn,
    ContributionIn,
    ContributionOut,
    ModerationIn,
    ReplyIn,
    SettingsIn,
    SettingsOut,
    VoteOut,
)
from server.participation.rules import Participation
from server.scenes import GeoJSONResponse, parse_bbox
from server.store import NAME_PATTERN

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (404, 409, 422, 429)}
router = APIRouter(prefix="/api/scenes/{scene}/participation", tags=["participation"], responses=ERRORS)
ogc_router = APIRouter(prefix="/ogc/collections", tags=["ogc"], responses={404: {"model": Problem}})

SceneId = Annotated[str, Path(pattern=NAME_PATTERN, description="scene id")]
ContributionId = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,64}$", description="contribution id")]
DeviceKey = Annotated[
    str,
    Header(
        alias="X-Device-Key",
        pattern=DEVICE_KEY_PATTERN,
        description="a random key the browser made and keeps (stored only as a salted hash)",
    ),
]
OptionalDeviceKey = Annotated[str | None, Header(alias="X-Device-Key", pattern=DEVICE_KEY_PATTERN)]


def _service(request: Request) -> Participation:
    return participation.service(request.app)


ServiceDep = Annotated[Participation, Depends(_service)]
CSV_MEDIA = "text/csv; charset=utf-8"


def _moderating(who: ModeratorDep, scene: SceneId) -> None:
    who.check_scene(scene)


Moderating = Depends(_moderating)


# public ------------------------------------------------------------------------------------------------
@router.get("", response_model=SettingsOut, summary="The scene's participation phase and rules")
def get_settings(scene: SceneId, svc: ServiceDep) -> dict[str, Any]:
    """Whether the phase accepts contributions now, pre-moderation, and the categories."""
    return svc.settings(scene)


@router.get("/contributions", response_model=list[ContributionOut], summary="Visible contributions")
def list_contributions(
    scene: SceneId,
    svc: ServiceDep,
    device: OptionalDeviceKey = None,
    category: Annotated[Literal["idea", "concern", "question", "praise"] | None, Query()] = None,
    variant: Annotated[str | None, Query(pattern=NAME_PATTERN, description="'existing': no variant")] = None,
    building: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[Literal["newest", "oldest", "support"], Query()] = "newest",
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[dict[str, Any]]:
    """Visible top-level contributions, filtered and sorted; ``voted`` marks the ones this device supports."""
    filters = {"category": category, "variant": variant, "building": building}
    return svc.visible(scene, device, order=sort, limit=limit, offset=offset, **filters)


@router.post("/contributions", status_code=201, response_model=ContributionOut, summary="Pin a contribution")
def create(scene: SceneId, body: ContributionIn, device: DeviceKey, svc: ServiceDep) -> dict[str, Any]:
    """Store a contribution at a 3D place, with its variant, building, camera pose and time of day."""
    return svc.create(scene, body, device)


@router.get("/contributions/{cid}/replies", response_model=list[ContributionOut], summary="Replies")
def list_replies(scene: SceneId, cid: ContributionId, svc: ServiceDep) -> list[dict[str, Any]]:
    """Visible replies to a visible contribution, oldest first."""
    return svc.replies(scene, cid)


@router.post("/contributions/{cid}/replies", status_code=201, response_model=ContributionOut, summary="Reply")
def reply(scene: SceneId, cid: ContributionId, body: ReplyIn, device: DeviceKey, svc: ServiceDep) -> dict[str, Any]:
    """Answer a visible contribution as a citizen."""
    return svc.reply(scene, cid, body, device)


@router.post("/contributions/{cid}/votes", response_model=VoteOut, summary="Support a contribution")
def vote(scene: SceneId, cid: ContributionId, device: DeviceKey, svc: ServiceDep) -> dict[str, Any]:
    """One vote per device: a second one changes nothing (``counted`` is false)."""
    return svc.vote(scene, cid, device)


@router.delete("/contributions/{cid}/votes", response_model=VoteOut, summary="Withdraw support")
def unvote(scene: SceneId, cid: ContributionId, device: DeviceKey, svc: ServiceDep) -> dict[str, Any]:
    """Take this device's vote back (``counted`` is false if it had none)."""
    return svc.vote(scene, cid, device, support=False)


@router.get("/summary", summary="Contributions per variant: counts by category and support")
def summary(scene: SceneId, svc: ServiceDep) -> list[dict[str, Any]]:
    """One entry per variant (``variant: null`` is the existing state) with visible contributions."""
    return svc.summary(scene)


# moderators -----------------------------------------------------------------------------------------
@router.put("", response_model=SettingsOut, dependencies=[Moderating], summary="Set pre-moderation and the phase")
def put_settings(scene: SceneId, body: SettingsIn, svc: ServiceDep) -> dict[str, Any]:
    """Change the fields given; the phase must close after it opens."""
    return svc.update_settings(scene, body)


@router.get("/moderation", response_model=list[ContributionOut], dependencies=[Moderating], summary="Moderation queue")
def queue(
    scene: SceneId,
    svc: ServiceDep,
    status: Annotated[Literal["pending", "visible", "hidden"] | None, Query()] = None,
    unreviewed: Annotated[bool, Query(description="only the ones no moderator has looked at")] = False,
) -> list[dict[str, Any]]:
    """Contributions with their replies after each, oldest first, any status unless one is asked for."""
    return svc.queue(scene, status, unreviewed)


@router.post("/moderation/{cid}", response_model=ContributionOut, dependencies=[Moderating], summary="Approve or hide")
def moderate(scene: SceneId, cid: ContributionId, body: ModerationIn, svc: ServiceDep) -> dict[str, Any]:
    """Approve (visible), or hide with a reason (required)."""
    return svc.moderate(scene, cid, body)


@router.put("/moderation/{cid}/answer", response_model=ContributionOut, dependencies=[Moderating], summary="Answer")
def answer(scene: SceneId, cid: ContributionId, body: AnswerIn, svc: ServiceDep) -> dict[str, Any]:
    """The city's official answer, shown with the contribution; empty text withdraws it."""
    return svc.answer(scene, cid, body)


@router.delete("/moderation/{cid}", status_code=204, dependencies=[Moderating], summary="Delete for good")
def delete(scene: SceneId, cid: ContributionId, svc: ServiceDep) -> Response:
    """Remove a contribution with its replies and votes (a person's request to be forgotten)."""
    svc.delete(scene, cid)
    return Response(status_code=204)


@router.post("/analogue", status_code=201, response_model=ContributionOut, summary="Key in a paper card")
def analogue(scene: SceneId, body: AnalogueIn, who: ModeratorDep, svc: ServiceDep) -> dict[str, Any]:
    """A contribution from a workshop or paper card, entered by lab staff, with workshop and card number."""
    who.check_scene(scene)
    return svc.create_analogue(scene, body, str(who.id))


@router.get(
    "/export.geojson",
    dependencies=[Moderating],
    response_class=GeoJSONResponse,
    responses={200: {"content": {"application/geo+json": {}}}},
    summary="Export every contribution as GeoJSON (3D points)",
)
def export_geojson(scene: SceneId, svc: ServiceDep) -> Any:
    """All contributions and replies, any status, with votes, as a FeatureCollection."""
    return GeoJSONResponse(export.geojson(svc.everything(scene)))


@router.get(
    "/export.csv",
    dependencies=[Moderating],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    summary="Export every contribution as CSV",
)
def export_csv(scene: SceneId, svc: ServiceDep) -> Response:
    """The same rows as the GeoJSON export, one line each, position and camera in columns."""
    headers = {"Content-Disposition": f'attachment; filename="{scene}-contributions.csv"'}
    return Response(export.csv_text(svc.everything(scene)), media_type=CSV_MEDIA, headers=headers)


# OGC API - Features ---------------------------------------------------------------------------------------
@ogc_router.get("/{scene}.contributions", summary="Contributions collection (OGC API - Features)")
def ogc_collection(scene: SceneId, svc: ServiceDep, base: BaseUrlDep) -> dict[str, Any]:
    """The collection document of a scene's visible contributions."""
    return export.ogc_collection(svc.scene(scene) | {"id": scene}, base)


@ogc_router.get(
    "/{scene}.contributions/items",
    response_class=GeoJSONResponse,
    responses={200: {"content": {"application/geo+json": {}}}, 400: {"model": Problem}},
    summary="Visible contributions as features",
)
def ogc_items(
    scene: SceneId,
    svc: ServiceDep,
    request: Request,
    bbox: Annotated[str | None, Query(max_length=200, description="west,south,east,north (degrees)")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Any:
    """Visible top-level contributions, newest first, paged; ``bbox`` filters by position."""
    box = parse_bbox(bbox) if bbox is not None else None
    rows = svc.visible(scene, None, bbox=box, limit=limit + 1, offset=offset)
    me = str(request.url).split("?")[0]
    return GeoJSONResponse(export.ogc_items(rows[:limit], me, limit, offset, len(rows) > limit))


@ogc_router.get(
    "/{scene}.contributions/items/{cid}",
    response_class=GeoJSONResponse,
    responses={200: {"content": {"application/geo+json": {}}}},
    summary="One visible contribution as a feature",
)
def ogc_item(scene: SceneId, cid: ContributionId, svc: ServiceDep) -> Any:
    """A visible top-level contribution (404 otherwise)."""
    return GeoJSONResponse(export.feature(svc.public(scene, cid), export.PUBLIC_PROPERTIES))
