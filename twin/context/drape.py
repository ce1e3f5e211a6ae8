"""Flat polygons as triangles lying on the ground: earcut triangulation, draped on the terrain (no I/O).

Roads and areas are 2D polygons in the working CRS. :func:`drape_polygons` triangulates each (mapbox
earcut, holes kept) and gives every vertex the ground's height plus a small ``lift``; with terrain the
polygons are first cut along the terrain grid's cells, so no triangle spans a cell and the surface follows
the ground instead of cutting through a slope. Without terrain everything lies at working z = 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mapbox_earcut
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from twin.context.terrain import HeightGrid, ground_height


@dataclass(frozen=True)
class Surface:
    """Triangles of draped polygons, Z-up working coordinates.

    positions : (n, 3) float64; normals : (n, 3) float64 unit; indices : (m, 3) int64 counter-clockwise from
    above; owner : (n,) int64, the index of the polygon each vertex belongs to
    """

    positions: np.ndarray
    normals: np.ndarray
    indices: np.ndarray
    owner: np.ndarray

    @property
    def triangles(self) -> int:
        """Number of triangles."""
        return len(self.indices)


def polygons_of(geometry: BaseGeometry) -> list[Polygon]:
    """The non-empty polygons in a geometry (polygon, multipolygon or collection); others dropped."""
    if isinstance(geometry, Polygon):
        return [] if geometry.is_empty else [geometry]
    if isinstance(geometry, MultiPolygon) or hasattr(geometry, "geoms"):
        return [p for g in geometry.geoms for p in polygons_of(g)]
    return []


def triangulate(polygon: Polygon) -> tuple[np.ndarray, np.ndarray]:
    """Earcut triangles of one polygon with its holes: vertices (n, 2) float64, triangles (m, 3) int64 (CCW)."""
    rings = [np.asarray(polygon.exterior.coords)[:-1, :2]]
    rings += [np.asarray(r.coords)[:-1, :2] for r in polygon.interiors]
    vertices = np.concatenate(rings).astype(np.float64)
    ends = np.cumsum([len(r) for r in rings]).astype(np.uint32)
    tri = np.asarray(mapbox_earcut.triangulate_float64(vertices, ends), dtype=np.int64).reshape(-1, 3)
    if len(tri):
        a, b, c = vertices[tri[:, 0]], vertices[tri[:, 1]], vertices[tri[:, 2]]
        cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
        clockwise = cross < 0
        tri[clockwise] = tri[clockwise][:, [0, 2, 1]]
        tri = tri[np.abs(cross) > 1e-12]
    return vertices, tri


def cut_by_grid(polygon: Polygon, grid: HeightGrid) -> list[Polygon]:
    """The polygon cut along the grid's cells (pieces within one cell each)."""
    x0, y0, step = grid.x0, grid.y0, grid.step
    minx, miny, maxx, maxy = polygon.bounds
    c0, c1 = int(np.floor((minx - x0) / step)), int(np.ceil((maxx - x0) / step))
    r0, r1 = int(np.floor((y0 - maxy) / step)), int(np.ceil((y0 - miny) / step))
    if (c1 - c0) * (r1 - r0) <= 1:
        return [polygon]
    cols, rows = np.meshgrid(np.arange(c0, c1), np.arange(r0, r1))
    cells = shapely.box(
        x0 + cols.ravel() * step,
        y0 - (rows.ravel() + 1) * step,
        x0 + (cols.ravel() + 1) * step,
        y0 - rows.ravel() * step,
    )
    pieces = shapely.intersection(polygon, cells[shapely.intersects(polygon, cells)])
    return [p for g in pieces for p in polygons_of(g)]


def drape_polygons(polygons: Sequence[BaseGeometry], lifts: Sequence[float], grid: HeightGrid | None = None) -> Surface:
    """All polygons as one surface on the ground (``grid``; None: z = 0), each ``lifts[i]`` metres above it."""
    positions, normals, indices, owner = [], [], [], []
    count = 0
    for i, (geometry, lift) in enumerate(zip(polygons, lifts, strict=True)):
        for part in polygons_of(geometry):
            for piece in cut_by_grid(part, grid) if grid is not None else [part]:
                xy, tri = triangulate(piece)
                if not len(tri):
                    continue
                z = ground_height(grid, xy[:, 0], xy[:, 1]) + lift
                positions.append(np.column_stack([xy, z]))
                up = grid.normals(xy[:, 0], xy[:, 1]) if grid is not None else np.tile([0.0, 0.0, 1.0], (len(xy), 1))
                normals.append(up)
                indices.append(tri + count)
                owner.append(np.full(len(xy), i, dtype=np.int64))
                count += len(xy)
    if not positions:
        empty = np.zeros((0, 3))
        return Surface(empty, empty, np.zeros((0, 3), dtype=np.int64), np.zeros(0, dtype=np.int64))
    return Surface(np.concatenate(positions), np.concatenate(normals), np.concatenate(indices), np.concatenate(owner))


def clip_box(bounds: tuple[float, float, float, float]) -> Polygon:
    """A rectangle of (minx, miny, maxx, maxy), e.g. to keep context within the terrain's or scene's extent."""
    return box(*bounds)
