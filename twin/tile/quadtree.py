"""A quadtree over the scene with ADD refinement: every building stored once, big ones high up.

Choices (and why):

- **ADD, not REPLACE.** A REPLACE hierarchy needs a simplified copy of the city in every parent tile, which
  costs bytes and build time and makes buildings pop when a parent is replaced. With ADD each node keeps the
  most *important* buildings of its area (footprint area × height) up to the tile budget and passes the rest
  to its four children. Far away a viewer draws the landmarks and big blocks; closer it adds the small houses.
- **Geometric error = what is missing.** An inner node's ``geometric_error`` is the size (largest of footprint
  diagonal and height) of the biggest building left to its descendants: the largest feature a viewer misses
  by not refining. Leaves have 0.
- **Budget in triangles**, estimated per building before meshing, so LoD2 models (hundreds of triangles) and
  LoD1 blocks (a dozen) both give tiles of similar weight (default 60 000 triangles: about 5,000 LoD1 blocks
  or 1,700 OSM buildings with roofs).
- **Explicit, not implicit, tiling**: see docs/architecture.md (content-addressed URIs).
- **No content in tiles wider than 1 km**, so a viewer at street level streams the few tiles around it
  rather than a root tile with the landmarks of a whole city (positions are 1 cm steps in any tile since
  tiles are Draco-compressed; the limit began as a precision one with 16-bit positions). Tiles above
  ``MAX_CONTENT_SIDE`` hold nothing and pass every building to their children; their geometric error is
  their side (not refining them shows nothing of their area), so a viewer always refines down to content.
  The build then gives them coarse stand-ins (merged blocks, REPLACE refinement, an error of what the blocks
  get wrong: :mod:`twin.tile.lod`), so at city scale a viewer refines to the buildings only near it.

Pure numpy: no I/O, no geometry beyond centroids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

#: Default tile budget, in estimated triangles.
DEFAULT_BUDGET = 60_000
#: Never split deeper than this (a pathological stack of buildings at one point).
MAX_DEPTH = 16
#: Widest tile (metres) that holds content. Each tile's glb carries ~2.6 kB of fixed JSON, so narrower tiles
#: cost bytes per building (bench/README.md: 75.6 B at 1 km, 70.6 B at 4 km on a suburban LoD1 set).
MAX_CONTENT_SIDE = 1000.0


@dataclass
class TileNode:
    """One tile of the hierarchy.

    key : quadtree path from the root, e.g. ``""`` (root), ``"2"``, ``"21"``
    bounds : (minx, miny, maxx, maxy) of the node's square in the working CRS
    members : (k,) int64 indices of the buildings whose geometry this tile holds
    children : child nodes (only non-empty ones)
    geometric_error : metres; 0 for leaves
    refine : ``"ADD"``, or ``"REPLACE"`` for a coarse parent (:mod:`twin.tile.lod`)
    """

    key: str
    bounds: tuple[float, float, float, float]
    members: np.ndarray
    children: list[TileNode] = field(default_factory=list)
    geometric_error: float = 0.0
    refine: Literal["ADD", "REPLACE"] = "ADD"

    def walk(self) -> list[TileNode]:
        """This node and all descendants, parents before children."""
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


def square_bounds(centroids: np.ndarray) -> tuple[float, float, float, float]:
    """The smallest square (with a 1 m margin) around (n, 2) points, so quadtree tiles stay square."""
    lo, hi = centroids.min(axis=0) - 1.0, centroids.max(axis=0) + 1.0
    side = float(max(hi - lo))
    c = (lo + hi) / 2.0
    return (c[0] - side / 2, c[1] - side / 2, c[0] + side / 2, c[1] + side / 2)


def build_quadtree(
    centroids: np.ndarray,
    importance: np.ndarray,
    sizes: np.ndarray,
    weights: np.ndarray,
    budget: float = DEFAULT_BUDGET,
    bounds: tuple[float, float, float, float] | None = None,
    max_content_side: float = MAX_CONTENT_SIDE,
    key: str = "",
) -> TileNode:
    """Partition buildings into an ADD quadtree (tiles wider than ``max_content_side`` hold no content).

    centroids : (n, 2) float64 working CRS; importance : (n,) float64 (bigger stays higher up)
    sizes : (n,) float64 metres (for geometric errors); weights : (n,) float64 estimated triangles
    key, bounds : build the subtree of the node ``key`` of a larger tree (whose square is ``bounds``) from the
        buildings whose centroids fall in it, in the larger tree's order (a partition of a distributed build)
    """
    centroids = np.asarray(centroids, dtype=np.float64).reshape(-1, 2)
    n = len(centroids)
    if bounds is None:
        bounds = square_bounds(centroids) if n else (0.0, 0.0, 1.0, 1.0)
    # One global order by importance; every node's members are a prefix of its share in that order.
    order = np.lexsort((np.arange(n), -np.asarray(importance, dtype=np.float64)))
    return _node(order, centroids, sizes, weights, budget, bounds, key, max_content_side)


def _node(
    idx: np.ndarray,
    centroids: np.ndarray,
    sizes: np.ndarray,
    weights: np.ndarray,
    budget: float,
    bounds: tuple[float, float, float, float],
    key: str,
    max_side: float,
) -> TileNode:
    cumulative = np.cumsum(weights[idx])
    minx, miny, maxx, maxy = bounds
    side = max(maxx - minx, maxy - miny)
    too_wide = side > max_side and len(key) < MAX_DEPTH
    if len(idx) == 0 or (cumulative[-1] <= budget and not too_wide) or len(key) >= MAX_DEPTH:
        return TileNode(key, bounds, np.sort(idx))
    # Keep the most important buildings that fit (at least one, however heavy); none in too wide a tile.
    keep = 0 if too_wide else max(int(np.searchsorted(cumulative, budget, side="right")), 1)
    members, rest = idx[:keep], idx[keep:]
    if len(rest) == 0:  # one building heavier than the budget and nothing else here: it is a tile of its own
        return TileNode(key, bounds, np.sort(members))
    mx, my = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    east = centroids[rest, 0] >= mx
    north = centroids[rest, 1] >= my
    quadrants = [
        (~east & ~north, (minx, miny, mx, my)),
        (east & ~north, (mx, miny, maxx, my)),
        (~east & north, (minx, my, mx, maxy)),
        (east & north, (mx, my, maxx, maxy)),
    ]
    children = [
        _node(rest[mask], centroids, sizes, weights, budget, qb, key + str(q), max_side)
        for q, (mask, qb) in enumerate(quadrants)
        if mask.any()
    ]
    error = float(sizes[rest].max())
    if keep == 0:
        error = max(error, side)
    return TileNode(key, bounds, np.sort(members), children, error)
