"""The build pipeline: scene manifest → 3D Tiles folder (see docs/architecture.md for the layout).

``build_scene`` is the one entry point, called by ``twin build`` and by the server's build jobs. Stages:
read (streaming) → project → repair → partition (quadtree) → mesh + encode per tile (all cores) →
variants (designs, cut-outs) → tileset.json per variant → scene.json. Files are written through
:mod:`twin.store`: blobs first, then tilesets and scene.json by atomic rename, so a crash leaves the previous
build intact.
"""

from __future__ import annotations

import copy
import json
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import shapely

from . import __version__
from .assemble import assemble, blob_prefix, wrap_root
from .content import Cancel, Progress, TileTask, encode_tiles, no_progress, property_row
from .context.context_layer import build_context
from .context.terrain_layer import on_the_ground, scene_terrain, write_terrain
from .crs import Frame, parse_crs, project_building, transform_xy, transformer, utm_crs_for
from .distributed.settings import dask_settings
from .errors import BuildError, Cancelled, TwinError
from .incremental import State, fingerprint, load_state, save_state
from .read.registry import read_source
from .records import Building
from .repair import repair_buildings
from .report import Report
from .scene import Scene
from .store import write_json_atomic, write_stream_atomic
from .tile import block_buildings, build_quadtree, coarse_parents

#: Buildings repaired together (vectorised checks) while reading.
REPAIR_CHUNK = 4096


@dataclass
class BuildResult:
    """A finished build: its report, the scene.json data, and where it was written."""

    report: Report
    scene_info: dict[str, Any]
    out: Path


# -- read, project, repair -------------------------------------------------------------------------------------


def collect_buildings(scene: Scene, report: Report, cancel: Cancel | None = None) -> tuple[list[Building], str]:
    """Read every source, project into the working CRS and repair; returns the buildings and the CRS.

    Without a CRS in the manifest the working CRS is the UTM zone of the first building read.
    """
    crs = scene.crs
    if crs is not None:
        parsed = parse_crs(crs)
        if not parsed.is_projected:
            raise BuildError(f"working CRS {crs} is not projected (metres are needed)")
    out: list[Building] = []
    seen: set[str] = set()
    for source in scene.sources:
        options = source.options
        chunk: list[Building] = []
        for i, raw in enumerate(read_source(source, report)):
            report.count("read")
            if cancel is not None and i % 2000 == 0 and cancel():
                raise Cancelled("build cancelled")
            if raw.id in seen:
                report.skip(raw.id, "duplicate id")
                continue
            seen.add(raw.id)
            try:
                if crs is None:
                    crs = _crs_from(raw)
                chunk.append(project_building(raw, crs))
            except (TwinError, ValueError) as exc:
                report.skip(raw.id, f"cannot project: {type(exc).__name__}")
                continue
            if len(chunk) >= REPAIR_CHUNK:
                out.extend(repair_buildings(chunk, options, report))
                chunk = []
        out.extend(repair_buildings(chunk, options, report))
    if not out or crs is None:
        raise BuildError(f"scene {scene.id!r}: no usable buildings in {', '.join(str(s.path) for s in scene.sources)}")
    return out, crs


def _crs_from(building: Building) -> str:
    """The UTM working CRS around a building (from its footprint or its first surface point)."""
    if building.footprint is not None:
        x, y = shapely.get_coordinates(building.footprint)[0]
    else:
        x, y = building.surfaces[0].exterior[0][:2]
    lon, lat = transformer(building.crs, "EPSG:4326").transform(x, y)
    return utm_crs_for(lon, lat)


# -- per-building tiling measures --------------------------------------------------------------------------------


def building_measures(buildings: Sequence[Building]) -> dict[str, np.ndarray]:
    """Arrays for tiling: centroid (n, 2), bounds (n, 4), importance, size, weight (estimated triangles), z range."""
    n = len(buildings)
    centroid = np.zeros((n, 2))
    bounds = np.zeros((n, 4))
    area = np.zeros(n)
    extent = np.zeros(n)
    zlo, zhi = np.zeros(n), np.zeros(n)
    weight = np.zeros(n)
    for i, b in enumerate(buildings):
        if b.surfaces:
            pts = np.concatenate([s.exterior for s in b.surfaces])
            lo, hi = pts.min(axis=0), pts.max(axis=0)
            centroid[i] = (lo[:2] + hi[:2]) / 2.0
            bounds[i] = (*lo[:2], *hi[:2])
            area[i] = b.footprint.area if b.footprint is not None else float(np.prod(hi[:2] - lo[:2]))
            extent[i] = float(np.hypot(*(hi[:2] - lo[:2])))
            zlo[i], zhi[i] = lo[2], hi[2]
            weight[i] = sum(len(s.exterior) + sum(len(h) for h in s.holes) - 2 for s in b.surfaces)
        else:
            fp = b.footprint
            assert fp is not None
            c = fp.centroid
            centroid[i] = (c.x, c.y)
            area[i] = fp.area
            minx, miny, maxx, maxy = bounds[i] = fp.bounds
            extent[i] = float(np.hypot(maxx - minx, maxy - miny))
            zlo[i], zhi[i] = b.base, b.height or 0.0
            # walls (2 per ring edge) + floor and roof (about one each per ring point), more for pitched roofs
            nverts = shapely.get_num_coordinates(fp)
            weight[i] = nverts * (4 if b.roof.shape == "flat" else 6)
    height = zhi - zlo
    return {
        "centroid": centroid,
        "bounds": bounds,
        "importance": area * np.maximum(height, 1.0),
        "size": np.maximum(extent, height),
        "weight": np.maximum(weight, 1.0),
        "zlo": zlo,
        "zhi": zhi,
    }


# -- the pipeline ------------------------------------------------------------------------------------------------


def build_scene(
    scene: Scene,
    out: str | Path,
    *,
    blob_dir: Path | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    previous: Path | None = None,
    compress: bool = True,
    write_footprints: bool = True,
    incremental: bool = True,
    scheduler: str | None = None,
    workers: int | None = None,
) -> BuildResult:
    """Build ``scene`` into the folder ``out`` (tileset.json, variants/, blobs/, scene.json, report.json).

    blob_dir : where blobs go (default ``out/blobs``); URIs in tilesets are made relative to it
    jobs : worker processes (default: all cores)
    progress : called with (stage, fraction 0..1)
    cancel : polled between tiles; returning True stops the build with :class:`Cancelled`
    previous : an earlier build folder of the same scene, to reuse unchanged tiles (incremental rebuild)
    write_footprints : also write buildings.geojson (lon/lat footprints, for the open-data API)
    incremental : keep .cache/state.pickle so a later build with ``previous`` can reuse this one
    scheduler, workers : run the city's tiles as Dask tasks: ``"local"`` (a cluster of ``workers`` processes) or
        a scheduler address; else the manifest's ``[build]`` table or TWIN_SCHEDULER / TWIN_WORKERS; none of
        them: the process pool (:mod:`twin.distributed`)
    """
    from .variants import build_variants  # designs pull in heavy importers; load them only when building

    started = time.perf_counter()
    out = Path(out)
    blob_dir = Path(blob_dir) if blob_dir is not None else out / "blobs"
    jobs = jobs or os.cpu_count() or 1
    progress = progress or no_progress
    report = Report()
    build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]

    progress("read", 0.0)
    dask = dask_settings(scene.build, scheduler=scheduler, workers=workers, where=f"scene {scene.id!r}: [build]")
    state = load_state(previous, scene, blob_dir, compress) if previous is not None and dask is None else None
    distributed = None
    context_cache: dict[str, Any] | None = None  # the street context layers of an earlier build (incremental)
    if dask is not None:
        from .distributed.pipeline import build_city

        distributed = build_city(
            scene,
            out,
            blob_dir,
            dask,
            jobs=jobs,
            compress=compress,
            progress=progress,
            cancel=cancel,
            previous=previous,
        )
        crs, frame, tree, contents = distributed.crs, distributed.frame, distributed.tree, distributed.contents
        report.merge(distributed.report)
        terrain = distributed.terrain
        # Only the stages that need the whole city (designs, context layers) bring its buildings to this process.
        buildings = distributed.buildings() if scene.variants or scene.context is not None else []
        jobs = distributed.workers
    elif state is not None and state.buildings:
        buildings, crs, frame, tree, contents = state.buildings, state.crs, state.frame, state.tree, state.contents
        report.merge(state.report)
        report.count("base_reused")
        terrain = scene_terrain(scene, crs, buildings)
        context_cache = state.variants.setdefault("context", {})
    else:
        buildings, crs = collect_buildings(scene, report, cancel)
        terrain = scene_terrain(scene, crs, buildings)
        buildings = on_the_ground(terrain, buildings)
        progress("read", 1.0)
        m = building_measures(buildings)
        c = m["centroid"]
        frame = Frame.from_bounds(crs, (c[:, 0].min(), c[:, 1].min(), c[:, 0].max(), c[:, 1].max()), scene.z0_height)
        tree = build_quadtree(
            c, m["importance"], m["size"], m["weight"], budget=scene.tile_budget, max_content_side=scene.max_tile_side
        )
        tasks: list[TileTask] = [(n.key, n.members, ()) for n in tree.walk() if len(n.members)]
        # Coarse parents (merged blocks) for the tiles too wide to hold buildings: encoded with the city's
        # tiles, as records after the buildings (their reports stay out of the build's counts).
        grounds = np.array([float(b.properties.get("ground", 0.0)) for b in buildings])
        parents = coarse_parents(tree, m["bounds"], m["zhi"], grounds)
        coarse = {key: block_buildings(key, blocks, crs) for key, blocks in parents.items()}
        records = list(buildings)
        for key, group in coarse.items():
            tasks.append((key, np.arange(len(records), len(records) + len(group)), ()))
            records.extend(group)
        contents = encode_tiles(
            tasks, records, frame, blob_dir, jobs=jobs, compress=compress, progress=progress, cancel=cancel
        )
        for key, content in contents.items():
            if key not in coarse:
                report.merge(content.report)
        report.info["coarse_tiles"] = len(coarse)
        report.info["coarse_bytes"] = sum(contents[k].size for k in coarse if k in contents)
        base_report = copy.deepcopy(report)
        state = State(
            fingerprint(scene, compress),
            buildings,
            crs,
            frame,
            tree,
            contents,
            base_report,
            state.variants if state is not None else {},
        )
        context_cache = state.variants["context"] = {}  # the city changed: its context is made again
    out.mkdir(parents=True, exist_ok=True)

    features = distributed.features if distributed is not None else len(buildings)
    extent = distributed.extent if distributed is not None else footprint_extent(buildings)
    city = assemble(tree, contents, blob_prefix(out, blob_dir))
    if city is None:
        raise BuildError(f"scene {scene.id!r}: no building could be meshed")
    tileset = wrap_root(city, [], frame)
    tileset.tileset_version = build_id
    layers: list[dict[str, Any]] = [{"id": "buildings", "tileset": "tileset.json", "features": features}]
    terrain_blobs: set[str] = set()
    if terrain is not None:
        figures, terrain_blobs = write_terrain(
            terrain.root, terrain.grid.source, frame, out / "terrain", blob_dir, compress=compress, version=build_id
        )
        report.info["terrain"] = {**terrain.info, **figures}
        layers.append({"id": "terrain", "tileset": "terrain/tileset.json", "features": figures["tiles"]})
    layers += build_context(
        scene,
        crs,
        [b.footprint for b in buildings],
        terrain.surface if terrain is not None else None,
        frame,
        out,
        blob_dir,
        report,
        compress=compress,
        version=build_id,
        cache=context_cache,
    )

    progress("variants", 0.0)
    variants_info = build_variants(
        scene,
        out,
        blob_dir,
        buildings,
        frame,
        tree,
        contents,
        report,
        jobs=jobs,
        compress=compress,
        progress=progress,
        cancel=cancel,
        build_id=build_id,
        cache=state.variants if state is not None else {},
        terrain=terrain,
        terrain_blobs=terrain_blobs,
    )

    if distributed is not None:
        if write_footprints:
            write_stream_atomic(out / "buildings.geojson", distributed.write_footprints)
        distributed.close(keep=incremental)
    else:
        if write_footprints:
            write_footprints_geojson(out / "buildings.geojson", buildings, frame)
        if incremental and state is not None:
            save_state(out, state, blob_dir)

    elapsed = time.perf_counter() - started
    total_bytes = sum(c.size for c in contents.values())
    report.info.update(
        tiles=len(contents),
        bytes=total_bytes,
        bytes_per_building=round(total_bytes / max(report.counts["written"], 1), 1),
        triangles=sum(c.triangles for c in contents.values()),
        seconds=round(elapsed, 2),
        buildings_per_second=round(report.counts["read"] / elapsed, 1) if elapsed > 0 else None,
        jobs=jobs,
        frame_residual_m=round(frame.residual, 4),
    )
    write_json_atomic(out / "report.json", report.to_dict())
    write_json_atomic(out / "tileset.json", tileset.to_dict())
    info = scene_info(scene, frame, features, extent, variants_info, build_id)
    if report.info.get("variants_failed"):
        info["variants_failed"] = report.info["variants_failed"]  # twin.variants: variants whose design failed
    info["layers"] = layers
    write_json_atomic(out / "scene.json", info)
    progress("done", 1.0)
    return BuildResult(report, info, out)


def footprint_extent(buildings: Sequence[Building]) -> np.ndarray | None:
    """[[minx, miny], [maxx, maxy]] of the buildings' footprints (working CRS), None without any."""
    pts = np.array([b.footprint.bounds for b in buildings if b.footprint is not None])
    if not len(pts):
        return None
    return np.array([[pts[:, 0].min(), pts[:, 1].min()], [pts[:, 2].max(), pts[:, 3].max()]])


def scene_info(
    scene: Scene,
    frame: Frame,
    features: int,
    extent: np.ndarray | None,
    variants: list[dict[str, Any]],
    build_id: str,
) -> dict[str, Any]:
    """The scene.json document (docs/architecture.md); ``extent`` from :func:`footprint_extent`."""
    if extent is not None:
        ll = frame.to_lonlat(extent)
        bounds = [round(float(v), 7) for v in (ll[0, 0], ll[0, 1], ll[1, 0], ll[1, 1])]
    else:
        bounds = [frame.lon, frame.lat, frame.lon, frame.lat]
    return {
        "id": scene.id,
        "title": scene.title,
        "crs": frame.crs,
        "origin": {"lon": round(frame.lon, 8), "lat": round(frame.lat, 8), "height": frame.height},
        "bounds": bounds,
        "attribution": list(scene.attribution),
        "licenses": list(scene.licenses),
        "tileset": "tileset.json",
        "variants": variants,
        "buildings": features,
        "build": {
            "id": build_id,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "report": "report.json",
            "generator": f"urban-twin {__version__}",
        },
    }


def write_footprints_geojson(path: Path, buildings: Sequence[Building], frame: Frame, chunk: int = 20_000) -> None:
    """Write the buildings' footprints in lon/lat with their properties (for the server's open-data API).

    Streamed in chunks, each projected and serialised by vectorised shapely calls: a million buildings never
    become one big dict in memory.
    """
    tr = transformer(frame.crs, "EPSG:4326")

    def write(f: BinaryIO) -> None:
        f.write(FOOTPRINTS_HEAD)
        comma = b""
        for start in range(0, len(buildings), chunk):
            lines = footprint_lines(buildings[start : start + chunk], tr)
            if lines:
                f.write(comma + ",".join(lines).encode("utf-8"))
                comma = b","
        f.write(FOOTPRINTS_TAIL)

    write_stream_atomic(path, write)


#: buildings.geojson around its features (joined by commas).
FOOTPRINTS_HEAD, FOOTPRINTS_TAIL = b'{"type":"FeatureCollection","features":[', b"]}"


def footprint_lines(buildings: Sequence[Building], tr: Any) -> list[str]:
    """The GeoJSON features (text) of the buildings with footprints; ``tr`` : working CRS → lon/lat."""

    def lonlat(coords: np.ndarray) -> np.ndarray:
        # 7 decimals (about 1 cm), as OSM stores them; rounding here is 20× cheaper than set_precision,
        # which also re-noded every polygon.
        x, y = transform_xy(tr, coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([x, y]), 7)

    part = [b for b in buildings if b.footprint is not None]
    geoms = shapely.transform(np.array([b.footprint for b in part], dtype=object), lonlat)
    texts = shapely.to_geojson(geoms)
    lines = []
    for b, geometry in zip(part, texts, strict=True):
        props = {k: v for k, v in property_row(b).items() if v is not None}
        props["base"] = round(float(b.base), 2)
        if "ground" in b.properties:  # where it stands on the terrain (working z)
            props["ground"] = b.properties["ground"]
        head = json.dumps({"type": "Feature", "id": b.id, "properties": props}, ensure_ascii=False)
        lines.append(head[:-1] + ',"geometry":' + geometry + "}")
    return lines
