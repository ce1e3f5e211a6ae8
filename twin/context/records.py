"""The records of context layers: small frozen dataclasses carrying their georeference, like twin.records.

A context reader yields these in the CRS of its source; :mod:`twin.context.project` returns them in the
scene's working CRS. Geometry is shapely (2D: heights come from the terrain), a raster is a numpy array
with its affine transform (rio-tiler's ``ImageData``: array + transform + crs). Constructors check shapes
and raise :class:`twin.errors.InvalidGeometry`, so a broken record never reaches a mesher.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon

from twin.errors import InvalidGeometry

#: Vertical datums of terrain heights: normal heights (SRTM/EGM96, DHHN) or heights above the ellipsoid.
DATUMS = ("normal", "ellipsoidal")
#: Kinds of line features the project knows (open vocabulary: readers may add their own).
LINE_KINDS = ("road", "path", "cycleway", "rail", "tram", "waterway")
#: Kinds of area features the project knows (open vocabulary).
AREA_KINDS = ("landuse", "water", "green", "paved", "forest")
#: Kinds of point features the project knows (open vocabulary).
POINT_KINDS = ("tree", "street_furniture", "sensor_station")


@dataclass(frozen=True, slots=True)
class Terrain:
    """A height raster: cell values with the affine transform of their grid, north up or rotated.

    values : (rows, cols) float32, metres in ``datum``; NaN where the source has no data
    transform : (a, b, c, d, e, f), rasterio/GDAL order: the corner of cell (row, col) is at
        ``x = a * col + b * row + c``, ``y = d * col + e * row + f``; values are the cells' centres
    crs : horizontal CRS of the grid, anything pyproj accepts
    datum : one of :data:`DATUMS`
    source : name of the source it came from
    """

    values: np.ndarray
    transform: tuple[float, float, float, float, float, float]
    crs: str
    datum: str = "normal"
    source: str = ""

    def __post_init__(self) -> None:
        values = np.asarray(self.values)
        if values.ndim != 2 or min(values.shape) < 2:
            raise InvalidGeometry(f"terrain {self.source!r}: values must be (rows, cols) with 2+ of each")
        if len(self.transform) != 6 or not np.all(np.isfinite(self.transform)):
            raise InvalidGeometry(f"terrain {self.source!r}: transform must be 6 finite numbers")
        a, b, _, d, e, _ = self.transform
        if abs(a * e - b * d) < 1e-12:
            raise InvalidGeometry(f"terrain {self.source!r}: the transform is singular (cells have no area)")
        if self.datum not in DATUMS:
            raise InvalidGeometry(f"terrain {self.source!r}: datum {self.datum!r} is not one of {DATUMS}")

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        rows, cols = np.shape(self.values)
        return int(rows), int(cols)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """The cell centres' coordinates: x, y : (rows, cols) float64 in ``crs``."""
        rows, cols = self.shape
        col, row = np.meshgrid(np.arange(cols) + 0.5, np.arange(rows) + 0.5)
        a, b, c, d, e, f = self.transform
        return a * col + b * row + c, d * col + e * row + f

    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) of the grid's outer corners, in ``crs``."""
        rows, cols = self.shape
        a, b, c, d, e, f = self.transform
        col = np.array([0, cols, 0, cols], dtype=np.float64)
        row = np.array([0, 0, rows, rows], dtype=np.float64)
        x, y = a * col + b * row + c, d * col + e * row + f
        return float(x.min()), float(y.min()), float(x.max()), float(y.max())

    def sample(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Heights at points (bilinear between cell centres); NaN outside the grid or next to no-data cells.

        x, y : (n,) float64 in ``crs``; returns (n,) float64
        """
        a, b, c, d, e, f = self.transform
        det = a * e - b * d
        dx, dy = np.asarray(x, dtype=np.float64) - c, np.asarray(y, dtype=np.float64) - f
        # Invert the affine transform, then shift to centre-based fractional indices.
        col = (e * dx - b * dy) / det - 0.5
        row = (-d * dx + a * dy) / det - 0.5
        rows, cols = self.shape
        inside = (col >= 0) & (col <= cols - 1) & (row >= 0) & (row <= rows - 1)
        c0 = np.clip(np.floor(col), 0, cols - 2).astype(np.intp)
        r0 = np.clip(np.floor(row), 0, rows - 2).astype(np.intp)
        tc, tr = col - c0, row - r0
        v = np.asarray(self.values, dtype=np.float64)
        top = v[r0, c0] * (1 - tc) + v[r0, c0 + 1] * tc
        bottom = v[r0 + 1, c0] * (1 - tc) + v[r0 + 1, c0 + 1] * tc
        out = top * (1 - tr) + bottom * tr
        return np.where(inside, out, np.nan)


@dataclass(frozen=True, slots=True)
class LineFeature:
    """A linear feature: a road, path, rail or tram track, or a waterway's centre line.

    id : stable source id (``"way/123"``)
    kind : one of :data:`LINE_KINDS` or the reader's own
    geometry : 2D line(s) in ``crs``
    width : metres across, where the source gives or implies one (``None``: the mesher's default per kind)
    tags : the source's attributes as strings (OSM ``highway``, ``lanes``, ``surface``, ...)
    """

    id: str
    source: str
    crs: str
    kind: str
    geometry: LineString | MultiLineString
    width: float | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_geometry(self.id, self.geometry, ("LineString", "MultiLineString"))
        if self.width is not None and not (np.isfinite(self.width) and self.width > 0):
            raise InvalidGeometry(f"{self.id}: width {self.width!r} must be a positive number of metres")


@dataclass(frozen=True, slots=True)
class AreaFeature:
    """A surface feature: landuse, water, green or paved polygon(s).

    kind : one of :data:`AREA_KINDS` or the reader's own; tags as :class:`LineFeature`
    geometry : 2D polygon(s) in ``crs``
    """

    id: str
    source: str
    crs: str
    kind: str
    geometry: Polygon | MultiPolygon
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_geometry(self.id, self.geometry, ("Polygon", "MultiPolygon"))


@dataclass(frozen=True, slots=True)
class PointFeature:
    """A point feature: a tree, a piece of street furniture or a sensor station.

    kind : one of :data:`POINT_KINDS` or the reader's own; tags as :class:`LineFeature`
    geometry : 2D point in ``crs``
    height : metres above ground where known (a tree's height), else ``None``
    size : metres across where known (a tree's crown diameter), else ``None``
    """

    id: str
    source: str
    crs: str
    kind: str
    geometry: Point
    height: float | None = None
    size: float | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_geometry(self.id, self.geometry, ("Point",))
        for name, value in (("height", self.height), ("size", self.size)):
            if value is not None and not (np.isfinite(value) and value >= 0):
                raise InvalidGeometry(f"{self.id}: {name} {value!r} must be a number of metres >= 0")


#: Every vector record kind of this module.
Feature = LineFeature | AreaFeature | PointFeature


def _check_geometry(feature_id: str, geometry: object, types: tuple[str, ...]) -> None:
    kind = getattr(geometry, "geom_type", type(geometry).__name__)
    if kind not in types:
        raise InvalidGeometry(f"{feature_id}: geometry is a {kind}, expected {' or '.join(types)}")
    if geometry.is_empty:  # type: ignore[attr-defined]
        raise InvalidGeometry(f"{feature_id}: empty geometry")
    if not np.all(np.isfinite(np.asarray(geometry.bounds, dtype=np.float64))):  # type: ignore[attr-defined]
        raise InvalidGeometry(f"{feature_id}: NaN or infinite coordinates")
