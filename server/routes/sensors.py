"""Public sensor routes: a scene's counting stations (OGC API – Features), counts by bucket, CSV, summaries.

Everything lives under ``/api/scenes/{scene}/sensors``: the collection document there, ``/items`` and
``/items/{station}`` (GeoJSON, OGC API – Features paging), ``/items/{station}/summary``, ``/observations``
(``?format=csv`` for CSV) and ``/status`` (each source's state: ``ok`` or ``unreachable`` with its error).
A live source is refreshed by a background thread that this router's lifespan starts when any registered
scene has one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Path, Query
from fastapi.responses import JSONResponse, Response

from server.deps import BaseUrlDep, CtxDep
from server.models import Problem
from server.sensors import ingest, query
from server.store import NAME_PATTERN


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the refresher for live sources (if there are any), stop it on shutdown."""
    ctx = app.state.ctx
    refresher = None
    if any(s.live for _, specs, _ in ingest.manifest_sources(ctx.db, ctx.store) for s in specs):
        refresher = ingest.Refresher(ctx.db, lambda: ingest.manifest_sources(ctx.db, ctx.store))
        refresher.start()
    try:
        yield
    finally:
        if refresher is not None:
            refresher.stop()


router = APIRouter(
    prefix="/api/scenes/{scene}/sensors",
    tags=["sensors"],
    responses={400: {"model": Problem}, 404: {"model": Problem}},
    lifespan=lifespan,
)
SceneId = Annotated[str, Path(pattern=NAME_PATTERN, description="scene id")]
StationId = Annotated[str, Path(max_length=100, description="station id (<source>-<datastream id>)")]
From = Annotated[
    str | None,
    Query(alias="from", max_length=40, description="start: ISO 8601 date/datetime (UTC unless given) or UNIX s"),
]
To = Annotated[str | None, Query(alias="to", max_length=40, description="end (exclusive), as `from`")]
Tz = Annotated[str | None, Query(max_length=64, description="IANA time zone for buckets (default: the source's)")]


class GeoJSONResponse(JSONResponse):
    """``application/geo+json``."""

    media_type = "application/geo+json"


@router.get("", summary="The stations collection (OGC API – Features)")
def get_collection(scene: SceneId, ctx: CtxDep, base: BaseUrlDep) -> dict[str, Any]:
    """Spatial and temporal extent of the scene's stations, links to items, observations and status."""
    return query.collection(ctx.db, scene, base)


@router.get("/status", summary="State of the scene's sensors sources")
def get_status(scene: SceneId, ctx: CtxDep) -> dict[str, Any]:
    """Per source: ``ok`` or ``unreachable`` (what is stored stays), last success, error, the ingest report."""
    ctx.db.scenes.get(scene)
    return ingest.scene_status(ctx.db, scene)


@router.get(
    "/items",
    summary="Stations (GeoJSON)",
    response_class=GeoJSONResponse,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def get_items(
    scene: SceneId,
    ctx: CtxDep,
    base: BaseUrlDep,
    bbox: Annotated[str | None, Query(max_length=200, description="west,south,east,north (degrees)")] = None,
    kind: Annotated[str | None, Query(max_length=20, description="bicycle, car or other")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Any:
    """Stations as Features: a Point, or the counted road section as a LineString; ``kind`` tells them apart."""
    return GeoJSONResponse(query.items(ctx.db, scene, base, bbox, kind, limit, offset))


@router.get(
    "/items/{station}",
    summary="One station (GeoJSON)",
    response_class=GeoJSONResponse,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def get_item(scene: SceneId, station: StationId, ctx: CtxDep, base: BaseUrlDep) -> Any:
    """One station as a Feature."""
    return GeoJSONResponse(query.item(ctx.db, scene, base, station))


@router.get("/items/{station}/summary", summary="Daily totals, peak hour, weekday and weekend profiles")
def get_summary(
    scene: SceneId, station: StationId, ctx: CtxDep, start: From = None, end: To = None, tz: Tz = None
) -> dict[str, Any]:
    """One station over ``[from, to)`` (default: the year before its last count), by local day and hour."""
    return query.station_summary(ctx.db, scene, station, start, end, tz)


@router.get(
    "/observations",
    summary="Counts by bucket (JSON or CSV)",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def get_observations(
    scene: SceneId,
    ctx: CtxDep,
    bucket: Annotated[str, Query(max_length=10, description="15min, hour or day")] = "15min",
    start: From = None,
    end: To = None,
    station: Annotated[str | None, Query(max_length=20_000, description="comma-separated station ids")] = None,
    tz: Tz = None,
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv")] = "json",
) -> Any:
    """Sums and counts per bucket and station; default range: the last day (15min), week (hour), quarter (day)."""
    doc = query.observations(ctx.db, scene, bucket, start, end, station, tz)
    if format == "csv":
        return Response(
            query.observations_csv(doc),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{scene}-sensors-{bucket}.csv"'},
        )
    return doc
