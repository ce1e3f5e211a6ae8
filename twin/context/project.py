"""Context records into the working CRS, as :func:`twin.crs.project_building` does for buildings.

Vector features keep their type and attributes with their geometry projected (2D). A terrain raster is
resampled onto a north-up grid in the working CRS whose cells are about as large as the source's there, each
value bilinear between the source's cell centres (NaN outside the source or next to its no-data cells).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TypeVar

import numpy as np

from twin.crs import project_geometry, transform_xy, transformer
from twin.errors import InvalidGeometry

from .records import AreaFeature, LineFeature, PointFeature, Terrain

F = TypeVar("F", LineFeature, AreaFeature, PointFeature)
#: Points along each side of a raster used to find its projected extent (edges bend under projection).
EDGE_SAMPLES = 33


def project_feature(feature: F, dst: str) -> F:
    """The same feature with its geometry in the CRS ``dst`` (width, heights and tags unchanged)."""
    if feature.crs == dst:
        return feature
    return replace(feature, crs=dst, geometry=project_geometry(feature.geometry, feature.crs, dst))


def project_terrain(terrain: Terrain, dst: str, step: float | None = None) -> Terrain:
    """The terrain resampled onto a north-up grid in the CRS ``dst``; heights (and their datum) unchanged.

    step : cell size in ``dst`` units (default: the source cell's smaller side, measured in ``dst`` at the
        grid's centre, so no detail is lost)
    """
    if terrain.crs == dst:
        return terrain
    forward = transformer(terrain.crs, dst)
    rows, cols = terrain.shape
    a, b, c, d, e, f = terrain.transform
    # The projected extent, from points along the four edges.
    t = np.linspace(0.0, 1.0, EDGE_SAMPLES)
    edge_col = np.concatenate([t * cols, t * cols, np.zeros_like(t), np.full_like(t, cols)])
    edge_row = np.concatenate([np.zeros_like(t), np.full_like(t, rows), t * rows, t * rows])
    ex, ey = transform_xy(forward, a * edge_col + b * edge_row + c, d * edge_col + e * edge_row + f)
    minx, miny, maxx, maxy = float(ex.min()), float(ey.min()), float(ex.max()), float(ey.max())
    if step is None:
        # A centre cell and its neighbours along a row and a column, projected.
        col = np.array([cols / 2, cols / 2 + 1, cols / 2])
        row = np.array([rows / 2, rows / 2, rows / 2 + 1])
        px, py = transform_xy(forward, a * col + b * row + c, d * col + e * row + f)
        step = float(min(math.hypot(px[1] - px[0], py[1] - py[0]), math.hypot(px[2] - px[0], py[2] - py[0])))
    if not (math.isfinite(step) and step > 0):
        raise InvalidGeometry(f"terrain {terrain.source!r}: cell size {step!r} in {dst} must be positive")
    out_cols = max(2, math.ceil((maxx - minx) / step))
    out_rows = max(2, math.ceil((maxy - miny) / step))
    grid = (step, 0.0, minx, 0.0, -step, maxy)
    # Each new cell's centre, back in the source CRS, sampled there.
    col, row = np.meshgrid(np.arange(out_cols) + 0.5, np.arange(out_rows) + 0.5)
    sx, sy = transform_xy(transformer(dst, terrain.crs), (minx + col * step).ravel(), (maxy - row * step).ravel())
    values = terrain.sample(sx, sy).reshape(out_rows, out_cols).astype(np.float32)
    return Terrain(values, grid, dst, terrain.datum, terrain.source)
