"""OSM files cut into bbox extracts (osmium-tool) so each read task of a Dask build reads only its part.

A first task gets the bounds of the file's buildings (``osmium tags-filter``, ``fileinfo -e``) and lays a
regular grid of about ``size / osm_bytes`` cells over them; tasks of :data:`PER_PASS` cells each write one
extract per cell, widened by :data:`MARGIN` degrees, in one ``osmium extract --strategy smart`` pass over the
file: ways with a node inside come whole, multipolygon relations with all their members. A building crossing a
cut is in several extracts, but only the one whose cell holds its smallest vertex (lexicographic lon, lat: a
node of it, so that extract has it whole) keeps it; the margin brings the outline or parts around it so
``building:part`` resolution sees them too.

The reader's order is restored across extracts by :func:`order_keys`: osmium hands a way's area over as
the way is read and a multipolygon's once its last member way is, and self-intersecting ways come last,
by id. So the single-machine order of an OSM file is the order of the keys (way id, 0), (last member way
id, relation id + 1) and (2**62, way id); each extract, a subsequence of the file, keeps that order.

Reports: what the reader itself counts (skips, default heights) is counted once per extract an object is
in, so objects in the margins count more than once there; read and written counts, tiles, blobs and
buildings.geojson are the single-machine build's.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from ..errors import BuildError
from ..records import Building
from ..report import Report
from .grid import Bounds

#: Degrees each extract reaches beyond its cell (about 70 m by 110 m at 52° N): buildings, their parts
#: and outlines smaller than that resolve as in the whole file.
MARGIN = 0.001
#: The reason :mod:`twin.read.osm` gives to the ways it rebuilds after the pass (they come last).
SELF_INTERSECTING = "self-intersecting way"
#: Extracts written by one osmium pass (one task): osmium's id sets take about 0.5 GB per extract.
PER_PASS = 2
_BUILDING_TAGS = ("nwr/building", "nwr/building:part")
_LAST = 1 << 62
_INF = math.inf


def is_osm_file(path: Path, fmt: str) -> bool:
    """True for an OSM XML or PBF file osmium can cut (change files are not cut)."""
    return fmt == "osm" and not path.name.lower().endswith(".osc")


def pieces(path: Path, osm_bytes: int) -> int:
    """How many extracts a file of this size is cut into (1: read whole)."""
    return max(1, math.ceil(path.stat().st_size / osm_bytes))


def _osmium(*args: str) -> str:
    exe = shutil.which("osmium")
    if exe is None:
        raise BuildError("cutting an OSM file into extracts needs osmium-tool (apt install osmium-tool)")
    try:
        done = subprocess.run([exe, *args], capture_output=True, text=True, check=True, timeout=3600)
    except subprocess.CalledProcessError as err:
        raise BuildError(f"osmium {args[0]} failed: {err.stderr.strip()[-500:]}") from err
    return done.stdout


def building_bounds(path: Path, folder: Path) -> Bounds | None:
    """The lon/lat bounds of the nodes of the file's buildings, None for a file without any.

    ``osmium tags-filter`` keeps the building ways and relations with the nodes and members they use (a
    file in ``folder``, removed again), ``osmium fileinfo -e`` gives their bounds: roads reaching far out
    of a district do not stretch the grid.
    """
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / "buildings.osm.pbf"
    try:
        _osmium("tags-filter", "--overwrite", "--no-progress", "-o", str(kept), str(path), *_BUILDING_TAGS)
        text = _osmium("fileinfo", "-e", "-g", "data.bbox", str(kept)).strip().strip("()")
    finally:
        kept.unlink(missing_ok=True)
    if not text:
        return None
    x0, y0, x1, y1 = (float(v) for v in text.split(","))
    return (x0, y0, x1, y1)


def grid_cells(bounds: Bounds, count: int) -> list[Bounds]:
    """About ``count`` cells of a regular grid over ``bounds``; the outer edges reach to infinity."""
    nx = math.ceil(math.sqrt(count))
    ny = math.ceil(count / nx)
    xs = [bounds[0] + (bounds[2] - bounds[0]) * i / nx for i in range(nx + 1)]
    ys = [bounds[1] + (bounds[3] - bounds[1]) * j / ny for j in range(ny + 1)]
    xs[0], xs[-1], ys[0], ys[-1] = -_INF, _INF, -_INF, _INF
    return [(xs[i], ys[j], xs[i + 1], ys[j + 1]) for j in range(ny) for i in range(nx)]


def plan_cells(path: Path, count: int, folder: Path) -> tuple[Bounds, list[Bounds]] | None:
    """The buildings' bounds and about ``count`` grid cells over them (a task); None for a file without any."""
    bounds = building_bounds(path, folder)
    return None if bounds is None else (bounds, grid_cells(bounds, count))


def cut_cells(path: Path, bounds: Bounds, cells: Sequence[Bounds], first: int, folder: Path) -> list[Path]:
    """Write the extracts of ``cells`` (numbered from ``first``) under ``folder`` in one osmium pass (a task).

    osmium keeps id sets per extract (about 0.5 GB each on a file with ids over the whole OSM range,
    measured in docs/scaleout.md), so a pass takes at most :data:`PER_PASS` cells.
    """
    folder.mkdir(parents=True, exist_ok=True)
    extracts: list[dict[str, str | list[float]]] = []
    names: list[str] = []
    for k, (x0, y0, x1, y1) in enumerate(cells, first):
        box = [
            max(x0, bounds[0]) - MARGIN,
            max(y0, bounds[1]) - MARGIN,
            min(x1, bounds[2]) + MARGIN,
            min(y1, bounds[3]) + MARGIN,
        ]
        names.append(extract_path(folder, k).name)
        extracts.append({"output": names[-1], "bbox": box})
    config = folder / f"extracts-{first:04d}.json"
    config.write_text(json.dumps({"directory": str(folder), "extracts": extracts}))
    _osmium("extract", "--strategy", "smart", "--overwrite", "--no-progress", "-c", str(config), str(path))
    return [folder / name for name in names]


def extract_path(folder: Path, k: int) -> Path:
    """Where :func:`cut_cells` writes the extract of cell ``k``."""
    return folder / f"{k:04d}.osm.pbf"


def batches(cells: Sequence[Bounds]) -> list[tuple[int, list[Bounds]]]:
    """The cells in runs of at most :data:`PER_PASS`: (number of the first, cells) each."""
    return [(i, list(cells[i : i + PER_PASS])) for i in range(0, len(cells), PER_PASS)]


def cut(path: Path, count: int, folder: Path) -> list[tuple[Path, Bounds]]:
    """Cut ``path`` into extracts of about ``count`` cells under ``folder`` here: (extract, cell) each."""
    planned = plan_cells(path, count, folder)
    if planned is None:
        return []
    bounds, cells = planned
    paths = [p for first, run in batches(cells) for p in cut_cells(path, bounds, run, first, folder)]
    return list(zip(paths, cells, strict=True))


def owned(building: Building, cell: Bounds) -> bool:
    """True when the building's smallest vertex (lon, then lat) lies in ``cell`` (half-open)."""
    if building.footprint is None or building.footprint.is_empty:
        return cell[0] == -_INF and cell[1] == -_INF  # nothing to place: the first cell has it
    xy = shapely.get_coordinates(building.footprint)
    x, y = xy[np.lexsort((xy[:, 1], xy[:, 0]))[0]]
    return bool(cell[0] <= x < cell[2] and cell[1] <= y < cell[3])


@dataclass
class RepairLog(Report):
    """A report that also keeps the ids of the ways rebuilt from their nodes (they come last)."""

    rebuilt: set[str] = field(default_factory=set)

    def repair(self, feature_id: str, reason: str) -> None:
        """Record the repair, and the id where it is :data:`SELF_INTERSECTING`."""
        super().repair(feature_id, reason)
        if reason == SELF_INTERSECTING:
            self.rebuilt.add(feature_id)


def order_keys(extract: Path, ids: Sequence[str], rebuilt: set[str]) -> np.ndarray:
    """(n, 2) int64 keys giving the single-machine order of the buildings ``ids`` (see the module docstring)."""
    import osmium
    from osmium.filter import EntityFilter
    from osmium.osm import RELATION

    last: dict[int, int] = {}
    wanted = {int(i.split("/", 1)[1]) for i in ids if i.startswith("relation/")}
    if wanted:
        for rel in osmium.FileProcessor(str(extract)).with_filter(EntityFilter(RELATION)):
            if isinstance(rel, osmium.osm.Relation) and rel.id in wanted:
                last[rel.id] = max((m.ref for m in rel.members if m.type == "w"), default=0)
    keys = np.zeros((len(ids), 2), np.int64)
    for row, feature_id in enumerate(ids):
        kind, _, number = feature_id.partition("/")
        n = int(number)
        if feature_id in rebuilt:
            keys[row] = (_LAST, n)
        elif kind == "way":
            keys[row] = (n, 0)
        else:
            keys[row] = (last.get(n, 0), n + 1)
    return keys
