"""What the planner's placement map shows besides footprints: the scene's streets with their names, and which
existing buildings a placement would remove or keep (with the share of each inside the design's site).

Both come from the scene's own data: streets from the manifest's OSM sources (the builder meshes them into
``roads/`` tiles, which carry no centre lines or names), overlaps from a succeeded build's ``buildings.geojson``
and the footprint the upload check stored (:mod:`twin.designs.check`), cut out exactly as the builder cuts
(:func:`twin.designs.cutout.cut_out`, the site buffered by the same 2 m). Results are cached per build file.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box, mapping, shape
from shapely.strtree import STRtree

from server.deps import Context
from server.errors import Unprocessable
from server.models import AnchorIn
from server.planning import anchor_lonlat
from twin.errors import Conflict, ManifestError, NotFound, TwinError

#: Degrees around a build's bounds whose streets the map gets (about 200 m).
STREET_MARGIN = 0.002
#: OSM sources larger than this are not read for the map's streets (a region's extract would take minutes on
#: the first request; the viewer's roads layer shows them all the same).
MAX_STREET_SOURCE_BYTES = 200 * 1024**2
#: Streets the map gets at most (a city's network is drawn by the viewer, not by this map).
MAX_STREETS = 5000
#: The site around a design's footprint (metres), as the builder's default ``site_buffer``.
SITE_BUFFER = 2.0


def _build_folder(ctx: Context, scene: str, build: str) -> Path:
    row = ctx.db.builds.get(build, scene)
    if row["state"] != "succeeded":
        raise Conflict(f"build {build!r} is {row['state']}; the map reads succeeded builds only")
    return ctx.store.build_dir(scene, build)


def streets(ctx: Context, scene: str, build: str) -> dict[str, Any]:
    """Roads and paths (GeoJSON lines, lon/lat) with ``name`` and ``kind`` around a succeeded build's bounds."""
    info = ctx.store.scene_info(scene, build)
    _build_folder(ctx, scene, build)
    bounds = info.get("bounds")
    if not (isinstance(bounds, list) and len(bounds) >= 4):
        return {"type": "FeatureCollection", "features": []}
    manifest = Path(ctx.db.scenes.get(scene)["manifest"])
    try:
        stamp = manifest.stat().st_mtime
    except OSError as exc:
        raise NotFound(f"scene {scene!r}: its manifest is gone") from exc
    w, s, e, n = (float(v) for v in bounds[:4])
    m = STREET_MARGIN
    return _streets(str(manifest), stamp, (w - m, s - m, e + m, n + m))


@functools.lru_cache(maxsize=8)
def _streets(manifest: str, _stamp: float, extent: tuple[float, float, float, float]) -> dict[str, Any]:
    from twin.context.context_layer import OSM_FORMATS
    from twin.context.osmfeatures import classify
    from twin.context.records import LineFeature
    from twin.read.osmcontext import read_osm_context
    from twin.report import Report
    from twin.scene import load_scene

    try:
        scene = load_scene(manifest)
    except ManifestError as exc:
        raise Unprocessable(f"the scene's manifest cannot be read: {exc}") from exc
    clip = box(*extent)
    features: list[dict[str, Any]] = []
    seen: set[str] = set()
    for source in scene.sources:
        if source.format not in OSM_FORMATS or not source.path.is_file():
            continue
        if source.path.stat().st_size > MAX_STREET_SOURCE_BYTES:
            continue
        for element in read_osm_context(source.path, report=Report()):
            try:
                feature = classify(element, source.name)
            except (TwinError, ValueError):
                continue
            if not isinstance(feature, LineFeature) or feature.id in seen or not feature.geometry.intersects(clip):
                continue
            seen.add(feature.id)
            props = {"id": feature.id, "kind": feature.kind, "name": feature.tags.get("name", "")}
            features.append({"type": "Feature", "geometry": mapping(feature.geometry), "properties": props})
            if len(features) >= MAX_STREETS:
                break
    return {"type": "FeatureCollection", "features": features}


@functools.lru_cache(maxsize=8)
def _buildings(path: str, _stamp: float) -> tuple[list[tuple[str, dict[str, str], Any]], STRtree]:
    """A build's buildings.geojson as (id, address and name, lon/lat footprint) and a tree over them."""
    doc = json.loads(Path(path).read_bytes())
    out = []
    for f in doc.get("features", []):
        props = f.get("properties") or {}
        try:
            geom = shape(f["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        if not isinstance(geom, Polygon | MultiPolygon) or geom.is_empty:
            continue
        keep = {k: props[k] for k in ("address", "name") if isinstance(props.get(k), str)}
        out.append((str(props.get("id", "")), keep, geom))
    return out, STRtree([g for _, _, g in out])


def _near(path: Path, crs: str, site_lonlat: Polygon) -> list[Any]:
    """twin Buildings (working CRS) of the build whose footprints touch the site's lon/lat bounds."""
    from twin.crs import transform_points
    from twin.records import Building

    items, tree = _buildings(str(path), path.stat().st_mtime)
    out = []
    for i in tree.query(box(*site_lonlat.bounds)):
        bid, props, geom = items[int(i)]
        placed = shapely.transform(geom, lambda xy: transform_points(xy, "EPSG:4326", crs))
        out.append(Building(bid, "build", crs, placed, properties=props))
    return out


def overlaps(
    ctx: Context,
    scene: str,
    build: str,
    upload: str,
    anchor: AnchorIn,
    keep: list[str],
    remove: list[str],
) -> dict[str, Any]:
    """The buildings of ``build`` a placement of ``upload`` at ``anchor`` touches: for each its id, address,
    name, share inside the site, whether the builder would remove it and the planner's choice; and the site
    ring (lon/lat)."""
    from twin.crs import transform_points
    from twin.designs.cutout import cut_out, site_from_footprint
    from twin.designs.georef import anchor_matrix
    from twin.designs.model import Anchor

    row = ctx.db.uploads.get(upload)
    if row["scene"] != scene:
        raise NotFound(f"upload {upload!r} not found")
    rings = (row.get("info") or {}).get("footprint")
    cx, cy = (row.get("info") or {}).get("footprint_centre") or [0.0, 0.0]
    if not rings:
        raise Unprocessable(f"upload {row['filename']!r} was checked before footprints were kept: upload it again")
    folder = _build_folder(ctx, scene, build)
    crs = str(ctx.store.scene_info(scene, build).get("crs") or "")
    path = folder / "buildings.geojson"
    if not crs or not path.is_file():
        raise NotFound(f"build {build!r} has no buildings to compare with")
    data = anchor.model_dump(exclude_none=True)
    anchor_lonlat(data)  # an unusable crs or position is refused as when the design is placed
    try:
        matrix = anchor_matrix(Anchor.from_dict(data), crs, (float(cx), float(cy)))
        local = MultiPolygon([Polygon(r) for r in rings if len(r) >= 4]).buffer(0)
        site = site_from_footprint(local, matrix, SITE_BUFFER, label=row["filename"])
    except TwinError as exc:
        raise Unprocessable(str(exc)) from exc
    ring = transform_points(np.asarray(site.exterior.coords), crs, "EPSG:4326").round(8)
    buildings = _near(path, crs, Polygon(ring))
    cut = cut_out(buildings, site, keep=keep, remove=remove)
    gone = set(cut.removed)
    by_id = {b.id: b for b in buildings}
    listed = []
    for bid, share in cut.shares:
        b = by_id[bid]
        choice = "keep" if bid in keep else "remove" if bid in remove else None
        listed.append({"id": bid, **b.properties, "share": share, "removed": bid in gone, "choice": choice})
    return {"build": build, "site": ring.tolist(), "buildings": listed}
