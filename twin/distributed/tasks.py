"""The work of one Dask task: read a partition, split it by quadtree node, or tile one node (worker side).

Tasks share a scratch folder (the build's ``.cache/dask``, on storage every worker sees) and hand each
other files, never buildings: the client receives only summaries (counts, bounds, id hashes, tile
contents), so its memory does not grow with the city. Each file is named by what made it, so a later
build reuses a partition whose input is unchanged (reading) and a node whose buildings are unchanged
(meshing and encoding).
"""

from __future__ import annotations

import hashlib
import pickle
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..build import REPAIR_CHUNK, building_measures, footprint_lines
from ..content import TileContent, encode_tile
from ..context.terrain_layer import CityTerrain, on_the_ground
from ..crs import Frame, project_building, transformer
from ..errors import BuildError, TwinError
from ..records import Building
from ..repair import repair_buildings
from ..report import Report
from ..store import adopt_blobs, write_stream_atomic
from ..tile import Blocks, TileNode, block_buildings, build_quadtree, coarse_parents
from .grid import Bounds, node_bounds, node_keys
from .osm_extracts import RepairLog, order_keys
from .partitions import Partition


def id_hashes(ids: Sequence[str]) -> np.ndarray:
    """(n,) uint64 hashes of building ids (to find an id read again by a later partition)."""
    return np.array(
        [int.from_bytes(hashlib.blake2b(i.encode(), digest_size=8).digest(), "little") for i in ids], np.uint64
    )


def _dump(path: Path, obj: Any) -> None:
    write_stream_atomic(path, lambda f: pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL))


def _load(path: Path) -> Any:
    with path.open("rb") as f:
        return pickle.load(f)


def _reuse(name: str, scratch: Path, earlier: Path | None) -> Path | None:
    """``scratch/name``, brought over from an earlier build's scratch folder if only that one has it."""
    here = scratch / name
    if here.exists():
        return here
    if earlier is not None and (earlier / name).exists():
        here.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(earlier / name, here)
        return here
    return None


@dataclass
class ReadSummary:
    """What reading one partition gave: kept buildings, their extent, the ids it saw (hashes), its report.

    centroids, extent : (2, 2) [[minx, miny], [maxx, maxy]] of the kept buildings' centroids and footprints
    seen : uint64 hashes of every id read once (in order); kept : which of them became a building
    order, order_ids : of an OSM extract, the kept buildings' keys into the source's order and their id
    hashes (:func:`twin.distributed.osm_extracts.order_keys`)
    """

    fingerprint: str
    count: int
    centroids: np.ndarray
    extent: np.ndarray | None
    seen: np.ndarray
    kept: np.ndarray
    report: Report
    reused: bool = False
    seconds: float = 0.0
    order: np.ndarray | None = None
    order_ids: np.ndarray | None = None


def _extent(buildings: Sequence[Building], centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    c = np.array([centroids.min(axis=0), centroids.max(axis=0)]) if len(centroids) else np.full((2, 2), np.nan)
    fp = np.array([b.footprint.bounds for b in buildings if b.footprint is not None])
    ext = np.array([fp[:, :2].min(axis=0), fp[:, 2:].max(axis=0)]) if len(fp) else None
    return c, ext


def is_read(part: Partition, crs: str, scratch: Path, earlier: Path | None, salt: str) -> bool:
    """True when :func:`read_partition` would reuse a stored read of ``part`` (here or in ``earlier``)."""
    fp = part.fingerprint(f"{salt}|{crs}")
    return any(
        (folder / "parts" / f"{fp}.summary").exists() and (folder / "parts" / f"{fp}.pickle").exists()
        for folder in (scratch, earlier)
        if folder is not None
    )


def read_partition(part: Partition, crs: str, scratch: Path, earlier: Path | None, salt: str) -> ReadSummary:
    """Read, project and repair a partition into ``scratch/parts/<fingerprint>.pickle``; its summary."""
    started = time.perf_counter()
    fp = part.fingerprint(f"{salt}|{crs}")
    cached = _reuse(f"parts/{fp}.summary", scratch, earlier)
    if cached is not None and _reuse(f"parts/{fp}.pickle", scratch, earlier) is not None:
        summary: ReadSummary = _load(cached)
        summary.reused, summary.seconds = True, time.perf_counter() - started
        return summary
    report = RepairLog() if part.extract is not None else Report()
    seen: dict[str, None] = {}
    kept_ids: set[str] = set()
    out: list[Building] = []
    chunk: list[Building] = []
    try:
        for raw in part.read(report):
            report.count("read")
            if raw.id in seen:
                report.skip(raw.id, "duplicate id")
                continue
            seen[raw.id] = None
            try:
                chunk.append(project_building(raw, crs))
            except (TwinError, ValueError) as exc:
                report.skip(raw.id, f"cannot project: {type(exc).__name__}")
                continue
            if len(chunk) >= REPAIR_CHUNK:
                out.extend(repair_buildings(chunk, part.source.options, report))
                chunk = []
        out.extend(repair_buildings(chunk, part.source.options, report))
    except (TwinError, OSError) as exc:
        raise BuildError(f"partition {part.describe()}: {exc}") from exc
    kept_ids.update(b.id for b in out)
    centroids = building_measures(out)["centroid"]
    _dump(scratch / "parts" / f"{fp}.pickle", (out, centroids))
    c, ext = _extent(out, centroids)
    ids = list(seen)
    kept = np.array([i in kept_ids for i in ids], bool)
    summary = ReadSummary(fp, len(out), c, ext, id_hashes(ids), kept, report)
    if part.extract is not None and isinstance(report, RepairLog):
        summary.order = order_keys(part.extract, [b.id for b in out], report.rebuilt)
        summary.order_ids = id_hashes([b.id for b in out])
    summary.seconds = time.perf_counter() - started
    _dump(scratch / "parts" / f"{fp}.summary", summary)
    return summary


def _kept(scratch: Path, fp: str, drop: np.ndarray, report: Report | None) -> tuple[list[Building], np.ndarray]:
    """A partition's buildings and centroids without the ids ``drop`` (read first by an earlier partition)."""
    buildings, centroids = _load(scratch / "parts" / f"{fp}.pickle")
    if not len(drop):
        return buildings, centroids
    mask = ~np.isin(id_hashes([b.id for b in buildings]), drop)
    if report is not None:
        for b in (b for b, keep in zip(buildings, mask, strict=True) if not keep):
            report.skip(b.id, "duplicate id")
    return [b for b, keep in zip(buildings, mask, strict=True) if keep], centroids[mask]


def partition_extent(scratch: Path, fp: str, drop: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The centroid and footprint extent of a partition without the ids ``drop``."""
    buildings, centroids = _kept(scratch, fp, drop, None)
    return _extent(buildings, centroids)


def load_partition(scratch: Path, fp: str, drop: np.ndarray) -> list[Building]:
    """A partition's buildings without the ids ``drop`` (for the stages that need the whole city)."""
    return _kept(scratch, fp, drop, None)[0]


@dataclass
class SplitSummary:
    """Buildings per node of the task level, and the report of the ids dropped as duplicates."""

    index: int
    counts: dict[str, int]
    report: Report
    seconds: float = 0.0


def split_partition(
    index: int,
    fp: str,
    drop: np.ndarray,
    root: Bounds,
    depth: int,
    offset: int | np.ndarray,
    crs: str,
    scratch: Path,
    lines: bool,
    terrain: CityTerrain | None = None,
) -> SplitSummary:
    """Bucket a partition's buildings by their depth-``depth`` node (``scratch/buckets/<key>/<index>``).

    Each bucket keeps the buildings' indices in the whole city: ``offset`` + their order here, or
    ``offset[row]`` where the client gives each building its index (OSM extracts). With ``lines``, also
    writes the partition's share of buildings.geojson (``scratch/footprints/<index>``; with its indices,
    ``<index>.ranked``).
    With a ``terrain``, the buildings stand on it first (their ``ground``).
    """
    started = time.perf_counter()
    report = Report()
    buildings, centroids = _kept(scratch, fp, drop, report)
    buildings = on_the_ground(terrain, buildings)
    keys = np.array(node_keys(centroids, root, depth), dtype=object)
    counts: dict[str, int] = {}
    for key in sorted(set(keys)):
        rows = np.flatnonzero(keys == key)
        counts[key] = len(rows)
        _dump(
            scratch / "buckets" / key / f"{index:06d}.index", offset + rows if isinstance(offset, int) else offset[rows]
        )
        _dump(scratch / "buckets" / key / f"{index:06d}", [buildings[i] for i in rows])
    if lines and not isinstance(offset, int):
        tr = transformer(crs, "EPSG:4326")
        drawn = offset[[i for i, b in enumerate(buildings) if b.footprint is not None]]
        _dump(scratch / "footprints" / f"{index:06d}.ranked", (drawn, footprint_lines(buildings, tr)))
    elif lines:
        tr = transformer(crs, "EPSG:4326")
        write_stream_atomic(
            scratch / "footprints" / f"{index:06d}",
            lambda f: f.write(",".join(footprint_lines(buildings, tr)).encode()),
        )
    return SplitSummary(index, counts, report, time.perf_counter() - started)


@dataclass
class NodeSummary:
    """A tiled node: its subtree (members as city indices), tile contents, report, and its coarse blocks."""

    key: str
    tree: TileNode
    contents: dict[str, TileContent]
    coarse: list[str]
    blocks: Blocks | None
    report: Report
    reused: bool = False
    seconds: float = 0.0


def _frame_text(frame: Frame) -> str:
    return f"{frame.crs}|{frame.origin.tobytes().hex()}|{frame.matrix.tobytes().hex()}|{frame.lon}|{frame.lat}"


def tile_node(
    key: str,
    cells: Sequence[tuple[str, int]],
    root: Bounds,
    frame: Frame,
    settings: tuple[float, float, bool],
    blob_dir: Path,
    scratch: Path,
    earlier: tuple[Path, Path] | None,
    salt: str,
) -> NodeSummary:
    """Build, mesh and encode the subtree of node ``key`` from its buckets; the node's summary.

    cells : the buckets it takes, (cell key, partition index); settings : (tile budget, max tile side,
    compress); earlier : an earlier build's (scratch, blob folder)
    """
    started = time.perf_counter()
    budget, max_side, compress = settings
    h = hashlib.sha256(f"{salt}|{key}|{root}|{_frame_text(frame)}|{settings}".encode())
    files = [scratch / "buckets" / cell / f"{p:06d}" for cell, p in sorted(cells)]
    blobs: list[bytes] = []
    for path in files:
        blobs.append(path.read_bytes())
        h.update(f"{path.parent.name}/{path.name}|{len(blobs[-1])}|".encode())
        h.update(blobs[-1])
    # In city order (partition, then row), as the single-machine build holds them.
    index = np.concatenate([_load(path.with_suffix(".index")) for path in files])
    order = np.argsort(index, kind="stable")
    index = index[order]
    name = f"nodes/{h.hexdigest()[:32]}"
    cached = _reuse(name, scratch, earlier[0] if earlier else None)
    if cached is not None:
        summary: NodeSummary = _load(cached)
        if adopt_blobs([c.uri for c in summary.contents.values()], earlier[1] if earlier else blob_dir, blob_dir):
            summary.reused = True
            return _in_city(summary, index, started)
    loaded = [b for data in blobs for b in pickle.loads(data)]
    del blobs
    buildings = [loaded[i] for i in order]
    del loaded
    m = building_measures(buildings)
    tree = build_quadtree(
        m["centroid"],
        m["importance"],
        m["size"],
        m["weight"],
        budget=budget,
        bounds=node_bounds(root, key),
        max_content_side=max_side,
        key=key,
    )
    grounds = np.array([float(b.properties.get("ground", 0.0)) for b in buildings])
    parents = coarse_parents(tree, m["bounds"], m["zhi"], grounds)
    report = Report()
    contents: dict[str, TileContent] = {}
    for node in tree.walk():
        if len(node.members):
            content = encode_tile(node.key, [buildings[i] for i in node.members], frame, blob_dir, compress)
            if content is not None:
                contents[node.key] = content
                report.merge(content.report)
    for ckey, blocks in parents.items():
        content = encode_tile(ckey, block_buildings(ckey, blocks, frame.crs), frame, blob_dir, compress)
        if content is not None:
            contents[ckey] = content
    summary = NodeSummary(key, tree, contents, sorted(parents), parents.get(key), report)
    _dump(scratch / name, summary)  # members as indices into the node's buildings: reusable when others move
    return _in_city(summary, index, started)


def _in_city(summary: NodeSummary, index: np.ndarray, started: float) -> NodeSummary:
    """The summary with its tiles' members as indices into the whole city (and the task's time)."""
    for node in summary.tree.walk():
        node.members = index[node.members]
    summary.seconds = time.perf_counter() - started
    return summary
