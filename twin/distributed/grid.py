"""The quadtree's grid above the content tiles: which node of a level a building falls in, and node squares.

Every tile wider than the scene's ``max_tile_side`` holds no buildings and splits into its four quadrants
whatever the budget (:mod:`twin.tile.quadtree`), so down to that level the tree depends only on the root
square and on which quadrants hold centroids. A node of such a level is therefore built alone from the
buildings whose centroids fall in it, and the tree of all of them is the single-machine tree. The
arithmetic here repeats the quadtree's own (midpoints halved from the root), so the squares are the same
floats.
"""

from __future__ import annotations

import numpy as np

from ..tile.quadtree import MAX_DEPTH

Bounds = tuple[float, float, float, float]


def content_level(root: Bounds, max_side: float) -> int:
    """The depth of the first nodes narrow enough to hold buildings."""
    depth, bounds = 0, root
    while max(bounds[2] - bounds[0], bounds[3] - bounds[1]) > max_side and depth < MAX_DEPTH:
        bounds = node_bounds(bounds, "0")
        depth += 1
    return depth


def task_nodes(cells: dict[str, int], depth: int, target: int) -> dict[str, list[str]]:
    """Tiling tasks: node key → the cells (keys at ``depth``, with their building counts) it takes.

    A node becomes a task once it holds at most ``target`` buildings (or is a cell itself), so a dense
    district is cut finer than the countryside and a task's memory stays bounded by ``target``.
    """
    totals: dict[str, int] = {}
    for key, n in cells.items():
        for d in range(depth + 1):
            totals[key[:d]] = totals.get(key[:d], 0) + n
    tasks: dict[str, list[str]] = {}

    def visit(key: str, under: list[str]) -> None:
        if totals[key] <= target or len(key) >= depth:
            tasks[key] = under
            return
        for q in "0123":
            child = [cell for cell in under if cell[len(key)] == q]
            if child:
                visit(key + q, child)

    if totals:
        visit("", sorted(cells))
    return tasks


def node_bounds(root: Bounds, key: str) -> Bounds:
    """The square of the node ``key`` under the square ``root``."""
    minx, miny, maxx, maxy = root
    for digit in key:
        q = int(digit)
        mx, my = (minx + maxx) / 2.0, (miny + maxy) / 2.0
        minx, maxx = (mx, maxx) if q & 1 else (minx, mx)
        miny, maxy = (my, maxy) if q & 2 else (miny, my)
    return (minx, miny, maxx, maxy)


def node_keys(centroids: np.ndarray, root: Bounds, depth: int) -> list[str]:
    """The key of the depth-``depth`` node every centroid (n, 2) falls in."""
    n = len(centroids)
    minx, miny = np.full(n, root[0]), np.full(n, root[1])
    maxx, maxy = np.full(n, root[2]), np.full(n, root[3])
    digits = np.zeros((n, depth), np.int64)
    for d in range(depth):
        mx, my = (minx + maxx) / 2.0, (miny + maxy) / 2.0
        east, north = centroids[:, 0] >= mx, centroids[:, 1] >= my
        digits[:, d] = east + 2 * north
        minx, maxx = np.where(east, mx, minx), np.where(east, maxx, mx)
        miny, maxy = np.where(north, my, miny), np.where(north, maxy, my)
    codes = digits.astype(np.uint8) + ord("0")
    return [row.tobytes().decode() for row in codes] if depth else [""] * n
