"""Trees as instances: a few unit shapes by leaf type, one placement per tree (no I/O).

Trees come from ``natural=tree`` points, from ``natural=tree_row`` lines (one every :data:`ROW_SPACING`
metres) and scattered in woods and parks (a jittered grid at :data:`SCATTER_SPACING`, reproducible: the
random generator is seeded by the area's id). Each tree is a shape (:data:`SHAPES`: a broadleaved crown, a
needleleaved cone) scaled to its height and crown; the encoder writes one mesh per shape and every tree as an
instance of it (glTF ``EXT_mesh_gpu_instancing``), so a park of 1,000 trees is two meshes of some 70
triangles and 1,000 × 28 bytes of placements.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from twin.context.osmfeatures import WOODED, number
from twin.context.records import AreaFeature, LineFeature, PointFeature
from twin.context.terrain import HeightGrid, ground_height

#: Tree shapes; a tree's ``leaf_type`` (OSM) picks one.
SHAPES = ("broadleaved", "needleleaved")
#: Default height (m) by shape where the tags give none; crowns default to :data:`CROWN_RATIO` × height.
DEFAULT_HEIGHT = {"broadleaved": 10.0, "needleleaved": 14.0}
CROWN_RATIO = {"broadleaved": 0.65, "needleleaved": 0.4}
#: Metres between trees along a tree row; between scattered trees by area kind.
ROW_SPACING = 8.0
SCATTER_SPACING = {"forest": 10.0, "park": 20.0}
#: At most this many scattered trees per area (a forest of square kilometres stays a few MB).
SCATTER_CAP = 1500
#: sRGB colours of trunks and crowns by shape.
TRUNK_COLOR = (104, 82, 62)
CROWN_COLORS = {"broadleaved": (86, 134, 70), "needleleaved": (60, 104, 72)}


@dataclass(frozen=True)
class Trees:
    """Tree placements, Z-up working coordinates.

    positions : (n, 3) float64, the foot of each trunk on the ground
    heights, crowns : (n,) float64 metres (top of the crown, crown diameter)
    shapes : (n,) int64 index into :data:`SHAPES`
    feature : (n,) int64 row of each tree in ``rows`` (scattered trees share their area's row)
    rows : one metadata row per feature: ``id``, ``kind`` (tree, tree_row, scattered) and ``tags``
    """

    positions: np.ndarray
    heights: np.ndarray
    crowns: np.ndarray
    shapes: np.ndarray
    feature: np.ndarray
    rows: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.positions)


def shape_of(tags: Any) -> int:
    """The shape index of a tree's (or its area's) ``leaf_type``; broadleaved by default."""
    return 1 if str(tags.get("leaf_type", "")).startswith("needle") else 0


def _size(tags: Any, shape: int, height: float | None = None, crown: float | None = None) -> tuple[float, float]:
    name = SHAPES[shape]
    h = height or number(tags.get("height")) or DEFAULT_HEIGHT[name]
    c = crown or number(tags.get("diameter_crown")) or h * CROWN_RATIO[name]
    return h, c


def scatter_points(area: BaseGeometry, spacing: float, seed: str, cap: int = SCATTER_CAP) -> np.ndarray:
    """Points inside ``area`` on a grid of ``spacing`` jittered by up to 40 %: (n, 2) float64, n <= cap."""
    minx, miny, maxx, maxy = area.bounds
    if area.area / spacing**2 > cap:
        spacing = float(np.sqrt(area.area / cap))
    xs, ys = np.arange(minx + spacing / 2, maxx, spacing), np.arange(miny + spacing / 2, maxy, spacing)
    gx, gy = np.meshgrid(xs, ys)
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    points = np.column_stack([gx.ravel(), gy.ravel()]) + rng.uniform(-0.4, 0.4, (gx.size, 2)) * spacing
    if not len(points):
        return np.zeros((0, 2))
    inside = shapely.contains_xy(area, points[:, 0], points[:, 1])
    return points[inside][:cap]


def place_trees(
    points: Sequence[PointFeature],
    rows: Sequence[LineFeature] = (),
    areas: Sequence[AreaFeature] = (),
    grid: HeightGrid | None = None,
    avoid: BaseGeometry | None = None,
) -> Trees:
    """Every tree of the points, tree rows and wooded areas, standing on ``grid`` (None: z = 0).

    avoid : where no scattered tree may stand (roads, buildings)
    """
    xy: list[np.ndarray] = []
    heights: list[np.ndarray] = []
    crowns: list[np.ndarray] = []
    shapes: list[np.ndarray] = []
    feature: list[np.ndarray] = []
    meta: list[dict[str, Any]] = []

    def add(pts: np.ndarray, shape: int, h: float, c: float, row: dict[str, Any]) -> None:
        if not len(pts):
            return
        xy.append(pts)
        heights.append(np.full(len(pts), h))
        crowns.append(np.full(len(pts), c))
        shapes.append(np.full(len(pts), shape))
        feature.append(np.full(len(pts), len(meta)))
        meta.append(row)

    for p in points:
        s = shape_of(p.tags)
        h, c = _size(p.tags, s, p.height, p.size)
        add(np.array([[p.geometry.x, p.geometry.y]]), s, h, c, {"id": p.id, "kind": "tree", "tags": p.tags})
    for line in rows:
        if line.kind != "tree_row":
            continue
        length = line.geometry.length
        along = np.arange(ROW_SPACING / 2, max(length, ROW_SPACING / 2 + 1e-6), ROW_SPACING)
        pts = shapely.get_coordinates(shapely.line_interpolate_point(line.geometry, along))
        s = shape_of(line.tags)
        add(pts, s, *_size(line.tags, s), {"id": line.id, "kind": "tree_row", "tags": line.tags})
    for area in areas:
        if area.kind not in WOODED:
            continue
        pts = scatter_points(area.geometry, SCATTER_SPACING[area.kind], area.id)
        if avoid is not None and len(pts):
            pts = pts[~shapely.intersects_xy(avoid, pts[:, 0], pts[:, 1])]
        s = shape_of(area.tags)
        add(pts, s, *_size(area.tags, s), {"id": area.id, "kind": "scattered", "tags": area.tags})
    if not xy:
        zeros = np.zeros(0)
        return Trees(np.zeros((0, 3)), zeros, zeros, zeros.astype(np.int64), zeros.astype(np.int64), [])
    flat = np.concatenate(xy)
    z = ground_height(grid, flat[:, 0], flat[:, 1])
    return Trees(
        np.column_stack([flat, z]),
        np.concatenate(heights),
        np.concatenate(crowns),
        np.concatenate(shapes).astype(np.int64),
        np.concatenate(feature).astype(np.int64),
        meta,
    )


@dataclass(frozen=True)
class ShapeMesh:
    """A unit tree, 1 m high and 1 m across, Z-up, foot at the origin: two parts (trunk, crown).

    parts : (positions (n, 3) float32, normals (n, 3) float32, indices (m, 3) uint16, sRGB colour) each
    """

    name: str
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int, int]]]

    @property
    def triangles(self) -> int:
        """Triangles of one instance."""
        return sum(len(p[2]) for p in self.parts)


def _lathe(profile: np.ndarray, segments: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A surface of revolution about z: profile (k, 2) of (radius, z) bottom to top -> vertices, normals, faces.

    Normals are smooth (from the neighbouring profile points), so crowns look round with few triangles.
    """
    angles = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    r, z = profile[:, 0], profile[:, 1]
    # Profile normals: the tangent (dr, dz) turned outwards (dz, -dr).
    dr, dz = np.gradient(r), np.gradient(z)
    nr, nz = dz, -dr
    length = np.hypot(nr, nz)
    nr, nz = nr / length, nz / length
    ca, sa = np.cos(angles)[None, :], np.sin(angles)[None, :]
    vertices = np.stack([r[:, None] * ca, r[:, None] * sa, np.broadcast_to(z[:, None], (len(r), segments))], -1)
    normals = np.stack([nr[:, None] * ca, nr[:, None] * sa, np.broadcast_to(nz[:, None], (len(r), segments))], -1)
    k = np.arange(len(r) - 1)[:, None] * segments
    j = np.arange(segments)[None, :]
    a, b = k + j, k + (j + 1) % segments
    c, d = a + segments, b + segments
    faces = np.concatenate([np.stack([a, b, d], -1).reshape(-1, 3), np.stack([a, d, c], -1).reshape(-1, 3)])
    return vertices.reshape(-1, 3), normals.reshape(-1, 3), faces


def shape_meshes() -> list[ShapeMesh]:
    """The unit mesh of each of :data:`SHAPES` (trunk to 35 % / 45 % of the height, then the crown)."""
    out = []
    trunk_profile = {"broadleaved": 0.35, "needleleaved": 0.2}
    for name in SHAPES:
        top = trunk_profile[name]
        trunk = _lathe(np.array([[0.06, 0.0], [0.05, top + 0.05]]), 5)
        if name == "broadleaved":
            t = np.linspace(-np.pi / 2, np.pi / 2, 5)
            radius = np.maximum(np.cos(t) * 0.5, 1e-3)
            crown = _lathe(np.column_stack([radius, top + (np.sin(t) + 1) / 2 * (1 - top)]), 8)
        else:
            crown = _lathe(np.array([[1e-3, top], [0.5, top + 0.02], [0.3, 0.55], [1e-3, 1.0]]), 8)
        parts = []
        for (v, n, f), color in ((trunk, TRUNK_COLOR), (crown, CROWN_COLORS[name])):
            parts.append((v.astype(np.float32), n.astype(np.float32), f.astype(np.uint16), color))
        out.append(ShapeMesh(name, parts))
    return out
