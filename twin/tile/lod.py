"""Coarse parents: one merged block per grid cell standing in for a wide tile's buildings (REPLACE refinement).

The quadtree (:mod:`twin.tile.quadtree`) keeps content out of tiles wider than ``MAX_CONTENT_SIDE``, so at
city scale a viewer had nothing to draw from far away but the 1 km tiles themselves: at 100k buildings every
view loaded all 256 of them (issue 21). Here every such empty tile gets a coarse stand-in for its whole area:

- **Blocks per cell.** The tile's square is cut into ``CELLS`` × ``CELLS`` cells; the buildings whose centroid
  falls in a cell become one flat-topped box. The box is the cell's building extent (clipped to the cell)
  shrunk about its centre to the buildings' summed footprint area, and as tall as their area-weighted mean
  height: the mass of the city stays where it was, with far fewer triangles. Pure numpy (no shapely
  unions, which cost over a second per 1,600 footprints on the bench machine), so the build's speed holds.
- **Built bottom-up.** A tile's blocks are made from its children's blocks (or its content tiles'
  buildings), so every building is looked at once per level.
- **REPLACE, not ADD.** A coarse tile is hidden once its children are drawn; the children keep their own
  ADD refinement below it (each building is still stored once at full detail).
- **Geometric error = what the blocks get wrong**: the largest of the height spread the mean hides (RMS of
  the buildings' heights about it), the ground between buildings the box fills (half the difference of the
  cell's extent and the box's side) and an eighth of a cell (placement within the cell), and at least its
  children's errors, so the hierarchy's errors never grow downwards.

``TWIN_COARSE_PARENTS=0`` in the environment turns the stand-ins off (the wide tiles stay empty, ADD, with the
quadtree's errors): a switch for measuring what they cost (bench/README.md, issue 21), not for scenes; the
distributed build needs them and refuses to join its nodes without.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import shapely

from ..records import Building
from .quadtree import TileNode

#: The ``source`` of a coarse block in the property table (the viewer tells blocks from buildings by it).
COARSE_SOURCE = "coarse"
#: Cells per side of a coarse tile: at most CELLS² blocks (12 triangles each) per tile.
CELLS = 8
#: The environment variable that turns coarse parents off when it is ``0`` (measurements only).
SWITCH = "TWIN_COARSE_PARENTS"


def enabled() -> bool:
    """False when ``TWIN_COARSE_PARENTS=0``: :func:`coarse_parents` then makes none."""
    return os.environ.get(SWITCH, "1").strip() != "0"


@dataclass(frozen=True)
class Blocks:
    """Flat-topped boxes standing in for many buildings, in the working CRS.

    boxes : (k, 4) float64 minx, miny, maxx, maxy; heights : (k,) metres above ground;
    grounds : (k,) working z of their base (0 without terrain); areas : (k,) footprint area they stand for
    error : metres, the tile's geometric error
    """

    boxes: np.ndarray
    heights: np.ndarray
    grounds: np.ndarray
    areas: np.ndarray
    error: float

    def __len__(self) -> int:
        return len(self.boxes)

    @property
    def centroids(self) -> np.ndarray:
        """(k, 2) box centres."""
        return (self.boxes[:, :2] + self.boxes[:, 2:]) / 2.0


def merge_cells(
    bounds: tuple[float, float, float, float],
    extents: np.ndarray,
    areas: np.ndarray,
    heights: np.ndarray,
    grounds: np.ndarray,
    cells: int = CELLS,
) -> Blocks:
    """Merge footprints (or finer blocks) into one box per occupied cell of the square ``bounds``.

    extents : (n, 4) float64 footprint bounds; areas, heights, grounds : (n,) float64
    """
    extents = np.asarray(extents, dtype=np.float64).reshape(-1, 4)
    areas = np.maximum(np.asarray(areas, dtype=np.float64), 1e-6)
    heights = np.asarray(heights, dtype=np.float64)
    grounds = np.asarray(grounds, dtype=np.float64)
    minx, miny, maxx, maxy = bounds
    size = max(maxx - minx, maxy - miny) / cells
    if len(extents) == 0:
        return Blocks(np.zeros((0, 4)), np.zeros(0), np.zeros(0), np.zeros(0), size / 8.0)
    centre = (extents[:, :2] + extents[:, 2:]) / 2.0
    ix = np.clip(((centre[:, 0] - minx) // size).astype(np.int64), 0, cells - 1)
    iy = np.clip(((centre[:, 1] - miny) // size).astype(np.int64), 0, cells - 1)
    occupied, cell = np.unique(iy * cells + ix, return_inverse=True)
    k = len(occupied)
    lo = np.full((k, 2), np.inf)
    hi = np.full((k, 2), -np.inf)
    np.minimum.at(lo, cell, extents[:, :2])
    np.maximum.at(hi, cell, extents[:, 2:])
    # Clip to the cell, so neighbouring blocks never overlap.
    cell_lo = np.column_stack([minx + (occupied % cells) * size, miny + (occupied // cells) * size])
    lo, hi = np.maximum(lo, cell_lo), np.minimum(hi, cell_lo + size)
    area = np.bincount(cell, areas, k)
    height = np.bincount(cell, areas * heights, k) / area
    ground = np.bincount(cell, areas * grounds, k) / area
    spread = np.sqrt(np.bincount(cell, areas * (heights - height[cell]) ** 2, k) / area)
    # Shrink the extent about its centre to the footprint area it stands for (never grow it).
    side = hi - lo
    scale = np.sqrt(np.minimum(1.0, area / np.maximum(side[:, 0] * side[:, 1], 1e-6)))
    mid = (lo + hi) / 2.0
    half = side * scale[:, None] / 2.0
    boxes = np.column_stack([mid - half, mid + half])
    filled = 0.5 * float((side - 2.0 * half).max(initial=0.0))
    error = max(float(spread.max(initial=0.0)), filled, size / 8.0)
    return Blocks(boxes, height, ground, area, error)


def coarse_parents(
    tree: TileNode,
    extents: np.ndarray,
    heights: np.ndarray,
    grounds: np.ndarray,
    cells: int = CELLS,
    known: dict[str, Blocks] | None = None,
) -> dict[str, Blocks]:
    """Blocks for every tile of ``tree`` that holds no buildings of its own but has descendants.

    Sets those nodes' ``refine`` to ``"REPLACE"`` and their ``geometric_error`` to the blocks' error (never
    below a child's). extents : (n, 4) float64 footprint bounds of every building; heights, grounds : (n,).
    known : blocks already made for some nodes (the partitions of a distributed build): used as they are, their
    subtrees not visited. Returns key → blocks (without the known ones); none when :func:`enabled` is False.
    """
    if not enabled():
        return {}
    known = known or {}
    extents = np.asarray(extents, dtype=np.float64).reshape(-1, 4)
    areas = np.prod(np.maximum(extents[:, 2:] - extents[:, :2], 0.1), axis=1)
    out: dict[str, Blocks] = {}

    def visit(node: TileNode) -> Blocks | None:
        # What this node's area holds, as (extents, areas, heights, grounds) rows: its own buildings, and
        # its children's blocks where they have them (their buildings otherwise).
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        child_errors = [0.0]
        for child in node.children:
            blocks = known[child.key] if child.key in known else visit(child)
            child_errors.append(child.geometric_error)
            if blocks is not None:
                parts.append((blocks.boxes, blocks.areas, blocks.heights, blocks.grounds))
            else:
                idx = np.concatenate([n.members for n in child.walk()])
                parts.append((extents[idx], areas[idx], heights[idx], grounds[idx]))
        if len(node.members) or not node.children:
            return None
        ext, area, height, ground = (np.concatenate(column) for column in zip(*parts, strict=True))
        merged = merge_cells(node.bounds, ext, area, height, ground, cells)
        error = max(merged.error, *child_errors)
        blocks = Blocks(merged.boxes, merged.heights, merged.grounds, merged.areas, error)
        node.refine = "REPLACE"
        node.geometric_error = error
        out[node.key] = blocks
        return blocks

    visit(tree)
    return out


def block_buildings(key: str, blocks: Blocks, crs: str) -> list[Building]:
    """The blocks as flat-roofed :class:`Building` records (ids ``coarse/<tile key>/<n>``), ready to mesh."""
    polygons = shapely.box(*blocks.boxes.T)
    return [
        Building(
            id=f"coarse/{key}/{i}",
            source=COARSE_SOURCE,
            crs=crs,
            footprint=polygon,
            base=0.0,
            height=round(float(h), 2),
            properties={"ground": float(g)} if g else {},
        )
        for i, (polygon, h, g) in enumerate(zip(polygons, blocks.heights, blocks.grounds, strict=True))
    ]
