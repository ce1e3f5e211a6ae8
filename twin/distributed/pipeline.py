"""The client of a distributed build: partitions → read → split → tile tasks on Dask; the city's tile tree.

Three rounds of tasks (:mod:`twin.distributed.tasks`), each over files in the scratch folder:

1. **read** a partition each (:mod:`twin.distributed.partitions`): its buildings projected and repaired;
2. **split** a partition each: its buildings bucketed by their node at the *task level* of the quadtree
   (:mod:`twin.distributed.grid`), once the extent of the whole city (the root square, the frame) is known;
3. **tile** a node each: its subtree, meshes, glb blobs and coarse blocks.

The client then joins the nodes under the levels above them and gives those their coarse stand-ins: the
tree, tiles and blobs of a single-machine build of the same scene.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..build import FOOTPRINTS_HEAD, FOOTPRINTS_TAIL, _crs_from
from ..content import Cancel, Progress, TileContent, encode_tile
from ..context.terrain_layer import CityTerrain, on_the_ground, terrain_under
from ..crs import Frame, parse_crs
from ..errors import BuildError, Cancelled, TwinError
from ..incremental import code_version
from ..read.registry import read_source
from ..records import Building
from ..report import Report
from ..scene import Scene
from ..tile import Blocks, TileNode, block_buildings, coarse_parents
from ..tile.lod import SWITCH
from ..tile.lod import enabled as coarse_enabled
from ..tile.quadtree import square_bounds
from .grid import Bounds, content_level, node_bounds, task_nodes
from .osm_extracts import batches, cut_cells, extract_path, is_osm_file, pieces, plan_cells
from .partitions import Partition, plan_partitions, with_extracts
from .settings import DaskSettings
from .tasks import (
    NodeSummary,
    ReadSummary,
    is_read,
    load_partition,
    partition_extent,
    read_partition,
    split_partition,
    tile_node,
)

#: The scratch folder of a build (under its output folder; every worker must see it).
SCRATCH = Path(".cache") / "dask"


@dataclass
class DistributedCity:
    """The city built by Dask tasks: what :func:`twin.build.build_scene` needs to finish the build.

    extent : [[minx, miny], [maxx, maxy]] of the footprints (working CRS); terrain : the scene's, or None;
    parts : (fingerprint, dropped id hashes, city indices or None) of each partition with buildings, in
    order; the indices, of OSM extracts, place its buildings in the city (else they follow the one before)
    """

    crs: str
    frame: Frame
    tree: TileNode
    contents: dict[str, TileContent]
    report: Report
    features: int
    extent: np.ndarray | None
    workers: int
    scratch: Path
    terrain: CityTerrain | None = None
    parts: list[tuple[str, np.ndarray, np.ndarray | None]] = field(default_factory=list)

    def buildings(self) -> list[Building]:
        """Every building of the city, in the order of a single-machine build (loaded into this process)."""
        out: list[Building] = []
        where: list[np.ndarray] = []
        for fp, drop, index in self.parts:
            share = on_the_ground(self.terrain, load_partition(self.scratch, fp, drop))
            where.append(np.arange(len(out), len(out) + len(share)) if index is None else index)
            out.extend(share)
        if all(index is None for _, _, index in self.parts):
            return out
        return [out[i] for i in np.argsort(np.concatenate(where))]

    def write_footprints(self, f: BinaryIO) -> None:
        """Write buildings.geojson from the partitions' shares (the features of a single-machine build, in order).

        The shares of OSM extracts (``.ranked``: city index and text of each feature) that follow each other
        are merged by their indices.
        """
        f.write(FOOTPRINTS_HEAD)
        comma = b""
        ranked: list[tuple[np.ndarray, list[str]]] = []

        def emit(text: bytes) -> None:
            nonlocal comma
            if text:
                f.write(comma + text)
                comma = b","

        def merge() -> None:
            if ranked:
                index = np.concatenate([r[0] for r in ranked])
                lines = [line for r in ranked for line in r[1]]
                emit(",".join(lines[i] for i in np.argsort(index)).encode())
                ranked.clear()

        for path in sorted((self.scratch / "footprints").glob("*")):
            if path.suffix == ".ranked":
                with path.open("rb") as g:
                    ranked.append(pickle.load(g))
                continue
            merge()
            emit(path.read_bytes())
        merge()
        f.write(FOOTPRINTS_TAIL)

    def close(self, keep: bool) -> None:
        """Remove the buckets (and, unless ``keep``, the read partitions and node caches too)."""
        for name in ("buckets", "footprints") if keep else ("",):
            shutil.rmtree(self.scratch / name, ignore_errors=True)


@contextmanager
def connect(settings: DaskSettings, jobs: int | None) -> Iterator[Any]:
    """A dask.distributed Client: of a LocalCluster this build starts, or of the scheduler named."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise BuildError("a Dask build needs dask[distributed]: pip install 'urban-twin[scale]'") from exc
    if settings.local:
        n = settings.workers or jobs or os.cpu_count() or 1
        with (
            LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = Client(settings.scheduler, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise BuildError(f"cannot reach the Dask scheduler {settings.scheduler}: {exc}") from exc
    with client:
        yield client


def _run(
    client: Any,
    fn: Callable[..., Any],
    calls: Sequence[tuple[Any, ...]],
    stage: str,
    progress: Progress,
    cancel: Cancel | None,
    priorities: Sequence[int] | None = None,
) -> list[Any]:
    """Run ``fn(*args)`` for every args as tasks; results in call order (a task's error is raised here)."""
    from distributed import as_completed

    futures = [
        client.submit(fn, *args, pure=False, priority=priorities[i] if priorities else 0)
        for i, args in enumerate(calls)
    ]
    order = {f.key: i for i, f in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    try:
        for done, future in enumerate(as_completed(futures), 1):
            if cancel is not None and cancel():
                raise Cancelled("build cancelled")
            results[order[future.key]] = future.result()
            progress(stage, done / max(len(futures), 1))
    except BaseException:
        client.cancel(futures)
        raise
    return results


def _working_crs(scene: Scene) -> str:
    """The manifest's CRS, else the UTM zone of the first building read (as a single-machine build picks it)."""
    crs = scene.crs
    if crs is None:
        for source in scene.sources:
            for raw in read_source(source, Report()):
                try:
                    crs = _crs_from(raw)
                    break
                except (TwinError, ValueError):
                    continue
            if crs is not None:
                break
    if crs is None:
        raise BuildError(f"scene {scene.id!r}: no usable buildings in {', '.join(str(s.path) for s in scene.sources)}")
    if not parse_crs(crs).is_projected:
        raise BuildError(f"working CRS {crs} is not projected (metres are needed)")
    return crs


def _duplicates(reads: Sequence[ReadSummary]) -> list[np.ndarray]:
    """Per partition, the id hashes of its buildings that an earlier partition read first.

    One sort of every hash finds the repeated ones (usually none); only those are looked at again, so
    the client needs about 16 bytes per building for a moment (57M: bench/README.md).
    """
    none = [np.zeros(0, np.uint64) for _ in reads]
    if not reads:
        return none
    seen = np.concatenate([r.seen for r in reads])
    ordered = np.sort(seen)
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    del ordered
    if not len(repeated):
        return none
    where = np.flatnonzero(np.isin(seen, repeated))
    later = np.ones(len(where), bool)
    later[np.unique(seen[where], return_index=True)[1]] = False
    kept = np.concatenate([r.kept for r in reads])
    drop = where[later & kept[where]]
    owner = np.searchsorted(np.cumsum([len(r.seen) for r in reads]), drop, side="right")
    return [seen[drop[owner == i]] for i in range(len(reads))]


def _cut_osm(
    client: Any, parts: list[Partition], scratch: Path, settings: DaskSettings, is_read: Callable[[Partition], bool]
) -> tuple[list[Partition], int]:
    """``parts`` with every OSM file over ``settings.osm_bytes`` cut into extracts, and how many were written.

    A task plans each file's cells, tasks of a few cells write the extracts; a run whose extracts are all
    ``is_read`` already (a rebuild of an unchanged file) is not written again.
    """
    big = [
        p
        for p in parts
        if p.rows is None
        and is_osm_file(p.source.path, p.source.format)
        and pieces(p.source.path, settings.osm_bytes) > 1
    ]
    if not big:
        return parts, 0
    shutil.rmtree(scratch / "osm", ignore_errors=True)
    folders = {p.index: scratch / "osm" / f"{p.index:04d}" for p in big}
    planned = client.gather(
        [
            client.submit(
                plan_cells, p.source.path, pieces(p.source.path, settings.osm_bytes), folders[p.index], pure=False
            )
            for p in big
        ]
    )
    runs = [
        (p, plan, first, cells)
        for p, plan in zip(big, planned, strict=True)
        if plan
        for first, cells in batches(plan[1])
    ]
    todo = [
        run
        for run in runs
        if not all(
            is_read(replace(run[0], extract=extract_path(folders[run[0].index], k), cell=cell))
            for k, cell in enumerate(run[3], run[2])
        )
    ]
    client.gather(
        [
            client.submit(cut_cells, p.source.path, plan[0], cells, first, folders[p.index], pure=False)
            for p, plan, first, cells in todo
        ]
    )
    cuts: dict[int, list[tuple[Path, Bounds]]] = {}
    for p, _, first, cells in runs:
        cuts.setdefault(p.index, []).extend(
            (extract_path(folders[p.index], k), cell) for k, cell in enumerate(cells, first)
        )
    return with_extracts(parts, cuts), sum(len(run[3]) for run in todo)


def _city_indices(
    parts: Sequence[Partition],
    reads: Sequence[ReadSummary],
    drops: Sequence[np.ndarray],
    offsets: np.ndarray,
    live: Sequence[int],
) -> dict[int, np.ndarray]:
    """The city index of every building of the OSM extracts: each source's order, as one read gives it.

    Extracts of one file follow each other; their buildings take the indices from the first one's offset
    on, ranked by their order keys (less the ids an earlier partition read first).
    """
    out: dict[int, np.ndarray] = {}
    groups: dict[Any, list[int]] = {}
    for i in live:
        if parts[i].extract is not None:
            groups.setdefault((parts[i].source.name, parts[i].source.path), []).append(i)
    for members in groups.values():
        keys = []
        for i in members:
            order, ids = reads[i].order, reads[i].order_ids
            if order is None or ids is None:
                raise BuildError(f"partition {parts[i].describe()}: no order keys")  # not reached
            keys.append(order[~np.isin(ids, drops[i])] if len(drops[i]) else order)
        every = np.concatenate(keys)
        rank = np.empty(len(every), np.int64)
        rank[np.lexsort((every[:, 1], every[:, 0]))] = np.arange(len(every))
        start = int(offsets[members[0]])
        cuts = np.cumsum([0, *(len(k) for k in keys)])
        for j, i in enumerate(members):
            out[i] = start + rank[cuts[j] : cuts[j + 1]]
    return out


def _top(root: Bounds, nodes: dict[str, NodeSummary]) -> TileNode:
    """The tree above the tasks' nodes: tiles too wide for content, over the nodes' subtrees."""
    occupied = {k[:d] for k in nodes for d in range(len(k) + 1)}

    def make(key: str, bounds: Bounds) -> TileNode:
        if key in nodes:
            return nodes[key].tree
        children = [make(key + str(q), node_bounds(bounds, str(q))) for q in range(4) if key + str(q) in occupied]
        side = max(bounds[2] - bounds[0], bounds[3] - bounds[1])
        return TileNode(key, bounds, np.zeros(0, np.int64), children, side)

    return make("", root)


def build_city(
    scene: Scene,
    out: Path,
    blob_dir: Path,
    settings: DaskSettings,
    *,
    jobs: int | None,
    compress: bool,
    progress: Progress,
    cancel: Cancel | None,
    previous: Path | None,
) -> DistributedCity:
    """Read, tile and encode the scene's buildings on a Dask cluster; the city for the rest of the build."""
    crs = _working_crs(scene)
    scratch = Path(out).resolve() / SCRATCH
    earlier = Path(previous).resolve() / SCRATCH if previous is not None else None
    earlier = earlier if earlier is not None and earlier != scratch and earlier.is_dir() else None
    for name in ("buckets", "footprints"):
        shutil.rmtree(scratch / name, ignore_errors=True)
    salt = code_version()
    clock = {"started": time.perf_counter()}
    with connect(settings, jobs) as client:
        clock["cluster"] = time.perf_counter()
        workers = len(client.scheduler_info()["workers"])
        parts, extracts_written = _cut_osm(
            client,
            plan_partitions(scene, settings.partition_rows, 2 * workers),
            scratch,
            settings,
            lambda p: is_read(p, crs, scratch, earlier, salt),
        )
        try:
            reads: list[ReadSummary] = _run(
                client, read_partition, [(p, crs, scratch, earlier, salt) for p in parts], "read", progress, cancel
            )
        finally:  # the OSM extracts are read (or the build failed): gone
            shutil.rmtree(scratch / "osm", ignore_errors=True)
        report = Report()
        clock["read"] = time.perf_counter()
        for r in reads:
            report.merge(r.report)
        drops = _duplicates(reads)
        with_drops = [i for i, d in enumerate(drops) if len(d)]
        extents = _run(
            client,
            partition_extent,
            [(scratch, reads[i].fingerprint, drops[i]) for i in with_drops],
            "read",
            progress,
            cancel,
        )
        for i, (c, ext) in zip(with_drops, extents, strict=True):
            reads[i].centroids, reads[i].extent = c, ext
        counts = [r.count - len(d) for r, d in zip(reads, drops, strict=True)]
        live = [i for i, n in enumerate(counts) if n > 0]
        total = sum(counts)
        if not total:
            raise BuildError(
                f"scene {scene.id!r}: no usable buildings in {', '.join(str(s.path) for s in scene.sources)}"
            )
        lo = np.min([reads[i].centroids[0] for i in live], axis=0)
        hi = np.max([reads[i].centroids[1] for i in live], axis=0)
        frame = Frame.from_bounds(crs, (lo[0], lo[1], hi[0], hi[1]), scene.z0_height)
        root = square_bounds(np.array([lo, hi]))
        # Buckets one level above the content tiles: every node there and above is too wide to hold buildings.
        depth = max(content_level(root, scene.max_tile_side) - 1, 0)
        if depth > 0 and not coarse_enabled():
            raise BuildError(f"{SWITCH}=0: a Dask build joins its nodes through the coarse stand-ins; unset it")
        ext = [reads[i].extent for i in live if reads[i].extent is not None]
        extent = np.array([np.min([e[0] for e in ext], axis=0), np.max([e[1] for e in ext], axis=0)]) if ext else None
        terrain = None
        if scene.terrain is not None:  # under the footprints' extent, as a single-machine build reads it
            (x0, y0), (x1, y1) = extent if extent is not None else ((0.0, 0.0), (0.0, 0.0))
            bounds = None if extent is None else (float(x0), float(y0), float(x1), float(y1))
            terrain = terrain_under(scene.terrain, crs, bounds, scene.z0_height, scene.geoid_undulation)
        ground = client.scatter(terrain, broadcast=True) if terrain is not None else None
        offsets = np.concatenate([[0], np.cumsum(counts)])
        where = _city_indices(parts, reads, drops, offsets, live)
        splits = _run(
            client,
            split_partition,
            [
                (
                    i,
                    reads[i].fingerprint,
                    drops[i],
                    root,
                    depth,
                    where.get(i, int(offsets[i])),
                    crs,
                    scratch,
                    True,
                    ground,
                )
                for i in live
            ],
            "split",
            progress,
            cancel,
        )
        clock["split"] = time.perf_counter()
        buckets: dict[str, list[int]] = {}
        cells: dict[str, int] = {}
        for split in splits:
            report.merge(split.report)
            for key, n in split.counts.items():
                buckets.setdefault(key, []).append(split.index)
                cells[key] = cells.get(key, 0) + n
        target = max(1, min(settings.task_buildings, -(-total // (4 * max(workers, 1)))))
        tasks = task_nodes(cells, depth, target)
        keys = sorted(tasks)
        takes = {k: [(cell, p) for cell in tasks[k] for p in buckets[cell]] for k in keys}
        previous_blobs = Path(previous).resolve() / "blobs" if previous is not None else blob_dir
        settings_t = (scene.tile_budget, scene.max_tile_side, compress)
        nodes: list[NodeSummary] = _run(
            client,
            tile_node,
            [
                (k, takes[k], root, frame, settings_t, blob_dir, scratch, (earlier or scratch, previous_blobs), salt)
                for k in keys
            ],
            "tiles",
            progress,
            cancel,
            priorities=[sum(cells[c] for c in tasks[k]) for k in keys],
        )
        clock["tiles"] = time.perf_counter()
        scratch_bytes = sum(p.stat().st_size for d in ("parts", "buckets") for p in (scratch / d).rglob("*"))
    clock["close"] = time.perf_counter()
    by_key = {n.key: n for n in nodes}
    tree = _top(root, by_key)
    contents: dict[str, TileContent] = {}
    coarse: list[str] = []
    for node in nodes:
        contents.update(node.contents)
        coarse.extend(node.coarse)
        report.merge(node.report)
    if "" not in by_key:
        known: dict[str, Blocks] = {}
        for node in nodes:
            if node.blocks is None:
                raise BuildError(f"node {node.key!r} holds buildings above the content level")  # not reached
            known[node.key] = node.blocks
        none = np.zeros((0, 4))
        top = coarse_parents(tree, none, np.zeros(0), np.zeros(0), known=known)
        for key, blocks in top.items():
            content = encode_tile(key, block_buildings(key, blocks, crs), frame, blob_dir, compress)
            if content is not None:
                contents[key] = content
        coarse.extend(top)
    report.info["coarse_tiles"] = len(coarse)
    report.info["coarse_bytes"] = sum(contents[k].size for k in coarse if k in contents)
    report.info["dask"] = {
        "scheduler": settings.scheduler,
        "workers": workers,
        "partitions": len(parts),
        "partitions_reused": sum(r.reused for r in reads),
        "osm_extracts": sum(p.extract is not None for p in parts),
        "osm_extracts_written": extracts_written,
        "partitions_with_buildings": len(live),
        "bucket_level": depth,
        "node_levels": sorted({len(k) for k in keys}),
        "nodes": len(nodes),
        "nodes_reused": sum(n.reused for n in nodes),
        "scratch_bytes": scratch_bytes,
        # Wall time of each round (from the client) and the summed time of its tasks (on the workers).
        "seconds": {
            stage: round(clock[stage] - clock[before], 2)
            for before, stage in pairwise(("started", "cluster", "read", "split", "tiles", "close"))
        },
        "task_seconds": {
            "read": round(sum(r.seconds for r in reads), 2),
            "split": round(sum(s.seconds for s in splits), 2),
            "tiles": round(sum(n.seconds for n in nodes), 2),
        },
    }
    clock["join"] = time.perf_counter()
    report.info["dask"]["seconds"]["join"] = round(clock["join"] - clock["close"], 2)
    parts_kept = [(reads[i].fingerprint, drops[i], where.get(i)) for i in live]
    return DistributedCity(crs, frame, tree, contents, report, total, extent, workers, scratch, terrain, parts_kept)
