"""Polygon triangulation with earcut, in 2D and for planar 3D polygons."""

from __future__ import annotations

from collections.abc import Sequence

import mapbox_earcut
import numpy as np
from shapely.geometry import Polygon


def _ring(coords: np.ndarray) -> np.ndarray:
    """Drop the closing point of a ring if it repeats the first."""
    if len(coords) > 1 and np.array_equal(coords[0], coords[-1]):
        return coords[:-1]
    return coords


def polygon_rings(polygon: Polygon) -> list[np.ndarray]:
    """Exterior then interior rings of a shapely polygon, (k, 2) float64 each, not closed."""
    rings = [_ring(np.asarray(polygon.exterior.coords, dtype=np.float64)[:, :2])]
    rings += [_ring(np.asarray(r.coords, dtype=np.float64)[:, :2]) for r in polygon.interiors]
    return rings


def triangulate_rings(rings: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Triangulate a 2D polygon given as rings (exterior first, then holes).

    rings : sequence of (k, 2) float64, not closed
    returns : vertices (n, 2) float64 (the rings stacked), triangles (m, 3) uint32 counter-clockwise
    """
    vertices = np.concatenate(rings).astype(np.float64)
    ends = np.cumsum([len(r) for r in rings]).astype(np.uint32)
    tris = mapbox_earcut.triangulate_float64(vertices, ends).reshape(-1, 3).astype(np.uint32)
    if len(tris):
        a, b, c = vertices[tris[:, 0]], vertices[tris[:, 1]], vertices[tris[:, 2]]
        cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
        # Keep zero-area triangles: earcut makes them at collinear ring points (crease points inserted into
        # an edge), and dropping them would open a crack against the walls.
        flip = cross < 0
        tris[flip] = tris[flip][:, ::-1]
    return vertices, tris


def newell_normal(points: np.ndarray) -> np.ndarray:
    """Unit normal of a (roughly) planar 3D ring by Newell's method; zeros if degenerate.

    points : (k, 3) float64, not closed
    """
    p = points - points.mean(axis=0)
    q = np.roll(p, -1, axis=0)
    n = np.array(
        [
            np.sum((p[:, 1] - q[:, 1]) * (p[:, 2] + q[:, 2])),
            np.sum((p[:, 2] - q[:, 2]) * (p[:, 0] + q[:, 0])),
            np.sum((p[:, 0] - q[:, 0]) * (p[:, 1] + q[:, 1])),
        ]
    )
    length = np.linalg.norm(n)
    return n / length if length > 0 else n


def triangulate_planar(exterior: np.ndarray, holes: Sequence[np.ndarray] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Triangulate a planar 3D polygon; triangles wind like the exterior ring (right-hand rule).

    exterior : (k, 3) float64 not closed; holes : (j, 3) float64 each
    returns : vertices (n, 3) float64, triangles (m, 3) uint32, normal (3,) float64
    """
    normal = newell_normal(exterior)
    if not np.any(normal):
        return np.zeros((0, 3)), np.zeros((0, 3), np.uint32)
    # A 2D basis in the polygon's plane, right-handed with the normal, so CCW in 2D = the ring's winding.
    helper = np.array([1.0, 0.0, 0.0]) if abs(normal[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = np.cross(helper, normal)
    u /= np.linalg.norm(u)
    v = np.cross(normal, u)
    rings3 = [exterior, *holes]
    origin = exterior[0]
    rings2 = [np.column_stack([(r - origin) @ u, (r - origin) @ v]) for r in rings3]
    _, tris = triangulate_rings(rings2)
    return np.concatenate(rings3), tris
