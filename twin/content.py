"""Tile content: mesh and encode each tile's buildings into a glb blob, on all cores.

A *task* names one quadtree tile (its key, the indices of its buildings, the ids to leave out); the result
is a :class:`TileContent` (blob URI, size, box, counts). The city (:mod:`twin.build`) and its variants
(:mod:`twin.variants`) both encode through :func:`encode_tiles`.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .context.terrain_layer import lift
from .crs import Frame
from .encode.glb import MeshBatch, encode_glb
from .encode.metadata import building_table
from .errors import Cancelled
from .mesh import concatenate, mesh_building
from .mesh.batch import extrude_flat_batch
from .records import Building
from .report import Report
from .store import write_blob

Progress = Callable[[str, float], None]
Cancel = Callable[[], bool]
#: One tile to encode: its key, the indices of its buildings, and building ids to leave out.
TileTask = tuple[str, np.ndarray, tuple[str, ...]]


@dataclass
class TileContent:
    """What encoding one tile produced. lo, hi : (3,) float64 in the root frame."""

    key: str
    uri: str
    size: int
    lo: np.ndarray
    hi: np.ndarray
    triangles: int
    features: int
    report: Report = field(default_factory=Report)


def no_progress(stage: str, fraction: float) -> None:
    """A :data:`Progress` callback that reports nowhere."""


# Set before the worker pool forks, so workers read buildings without pickling them.
_SHARED: dict[str, Any] = {}


def property_row(b: Building) -> dict[str, Any]:
    """The building's row of the property table (the contract in docs/architecture.md)."""
    p = b.properties
    height = p.get("measured_height", b.height)
    return {
        "id": b.id,
        "source": b.source,
        "height": float(height) if height is not None else 0.0,
        "levels": p.get("levels"),
        "roof_shape": p.get("roof_shape_tag") or b.roof.shape,
        "address": p.get("address"),
        "name": p.get("name"),
        "usage": p.get("usage"),
        "year": None if p.get("year") is None else str(p.get("year")),
    }


def mesh_tile(buildings: Sequence[Building], report: Report) -> tuple[Any, np.ndarray, list[Building]]:
    """Mesh a tile's buildings; returns the mesh, the row of every vertex, and the buildings kept (rows).

    Flat-roofed extrusions (most of any LoD1 city) go through the vectorised batch mesher; pitched roofs and
    surface models one by one. If the batch fails, its buildings are meshed one by one so the one at fault
    is skipped alone.
    """
    flat = [b for b in buildings if not b.surfaces and b.roof.shape == "flat" and b.footprint is not None]
    other = [b for b in buildings if not (not b.surfaces and b.roof.shape == "flat" and b.footprint is not None)]
    meshes, owners, kept = [], [], []
    if flat:
        try:
            bases = np.array([b.base for b in flat], dtype=np.float64)
            tops = np.array([b.height for b in flat], dtype=np.float64)
            mesh, owner = extrude_flat_batch([b.footprint for b in flat], bases, tops)
            meshes.append(mesh)
            owners.append(owner)
            kept.extend(flat)
        except Exception:  # fall back to one by one, so the building at fault is found and skipped alone
            other = flat + other
    for b in other:
        try:
            mesh = mesh_building(b)
        except Exception as exc:  # one broken building must not stop the tile; the reason goes to the report
            report.skip(b.id, f"meshing failed: {type(exc).__name__}")
            continue
        if mesh.triangle_count == 0:
            report.skip(b.id, "no triangles")
            continue
        meshes.append(mesh)
        owners.append(np.full(mesh.vertex_count, len(kept), np.uint32))
        kept.append(b)
    if not meshes:
        return None, np.zeros(0, np.uint32), []
    mesh, _ = concatenate(meshes)
    # The batch comes first, so its owners (0..len(flat)-1) are already rows; the others carry their row.
    return mesh, np.concatenate(owners), kept


def encode_tile(
    key: str, buildings: Sequence[Building], frame: Frame, blob_dir: Path, compress: bool = True
) -> TileContent | None:
    """Mesh and encode one tile's buildings and store the glb blob; ``None`` if nothing could be meshed."""
    report = Report()
    mesh, owner, kept = mesh_tile(buildings, report)
    if mesh is None:
        return None
    local = frame.exact_local(lift(mesh.positions, owner, kept))  # on the terrain, when there is one
    batch = MeshBatch(local, mesh.normals, mesh.indices, owner, mesh.colors, mesh.uvs)
    glb = encode_glb(batch, building_table([property_row(b) for b in kept]), compress=compress)
    uri = write_blob(blob_dir, glb)
    report.count("written", len(kept))
    return TileContent(key, uri, len(glb), local.min(axis=0), local.max(axis=0), mesh.triangle_count, len(kept), report)


def _encode_shared(task: TileTask) -> TileContent | None:
    key, members, drop = task
    buildings = [b for b in (_SHARED["buildings"][i] for i in members) if b.id not in drop]
    return encode_tile(key, buildings, _SHARED["frame"], _SHARED["blob_dir"], _SHARED["compress"])


def encode_tiles(
    tasks: list[TileTask],
    buildings: Sequence[Building],
    frame: Frame,
    blob_dir: Path,
    *,
    jobs: int,
    compress: bool = True,
    progress: Progress = no_progress,
    cancel: Cancel | None = None,
    stage: str = "tiles",
) -> dict[str, TileContent]:
    """Encode tiles (key, member indices, ids to leave out) on ``jobs`` processes; key → content."""
    _SHARED.update(buildings=buildings, frame=frame, blob_dir=blob_dir, compress=compress)
    results: dict[str, TileContent] = {}
    try:
        if jobs <= 1 or len(tasks) <= 1:
            for done, task in enumerate(tasks, 1):
                if cancel is not None and cancel():
                    raise Cancelled("build cancelled")
                content = _encode_shared(task)
                if content is not None:
                    results[content.key] = content
                progress(stage, done / len(tasks))
            return results
        # fork: workers inherit the buildings; only keys and indices are pickled.
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            # Heavy tiles first, so the last straggler is small.
            order = sorted(tasks, key=lambda t: -len(t[1]))
            for done, content in enumerate(pool.map(_encode_shared, order, chunksize=1), 1):
                if cancel is not None and cancel():
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise Cancelled("build cancelled")
                if content is not None:
                    results[content.key] = content
                progress(stage, done / len(tasks))
        return results
    finally:
        _SHARED.clear()
