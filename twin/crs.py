"""Coordinates: project records into the scene's working CRS and place the working CRS on the globe.

Geometry lives in a projected *working CRS* (metres, Z up) from the projection stage on. Only the tileset
writer needs the globe: :class:`Frame` gives the one affine map from working coordinates (relative to the
scene origin) to ECEF that becomes the root tile's transform.

Why an affine fit and not plain ENU: a projected grid (UTM) is rotated against true north by the meridian
convergence (about 0.8° in Hamburg, zone 32) and scaled by the projection's scale factor. Treating UTM metres as
ENU metres would misplace a building 1 km from the origin by ~14 m. :meth:`Frame.from_bounds` maps sample
points over the scene extent exactly through pyproj and fits the best affine map to them; the residual (reported
as ``Frame.residual``) is millimetres for a city district.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TypeVar

import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError as PyprojCRSError

from .errors import CRSError
from .records import Building, Surface

#: Any shapely geometry (projection keeps its type).
G = TypeVar("G", bound=shapely.Geometry)
#: WGS 84 geographic 3D (lon, lat, ellipsoidal height) and geocentric (ECEF) CRS.
WGS84_3D = "EPSG:4979"
ECEF = "EPSG:4978"

# WGS 84 ellipsoid, for the closed-form geodetic -> ECEF conversion (faster than pyproj for arrays).
_A = 6378137.0
_F = 1.0 / 298.257223563
_E2 = _F * (2.0 - _F)


def parse_crs(crs: str | int | pyproj.CRS) -> pyproj.CRS:
    """Parse anything pyproj accepts; raise :class:`CRSError` naming the input otherwise."""
    try:
        return crs if isinstance(crs, pyproj.CRS) else pyproj.CRS.from_user_input(crs)
    except PyprojCRSError as exc:
        raise CRSError(f"unknown CRS {crs!r}: {exc}") from exc


def horizontal_crs(crs: str | pyproj.CRS) -> pyproj.CRS:
    """The horizontal part of a (possibly compound) CRS.

    Vertical datums such as DHHN2016 need geoid grids that are not installed (and cannot be fetched offline);
    heights are kept as they are and the scene manifest gives the geoid undulation at the origin instead.
    """
    parsed = parse_crs(crs)
    if parsed.is_compound:
        return parsed.sub_crs_list[0]
    return parsed


@lru_cache(maxsize=64)
def transformer(src: str, dst: str) -> pyproj.Transformer:
    """A cached, always-xy transformer between two CRS given as strings (horizontal parts only)."""
    try:
        return pyproj.Transformer.from_crs(horizontal_crs(src), horizontal_crs(dst), always_xy=True)
    except PyprojCRSError as exc:
        raise CRSError(f"cannot transform {src} to {dst}: {exc}") from exc


def utm_crs_for(lon: float, lat: float) -> str:
    """The ETRS89/WGS 84 UTM CRS of the zone containing (lon, lat), as ``"EPSG:xxxxx"``.

    Inside Europe's ETRS89 zones 28–38 the ETRS89 codes (EPSG:258xx, the official German grids) are used.
    """
    zone = int((lon + 180.0) // 6.0) + 1
    if lat >= 0 and 28 <= zone <= 38 and 34.0 <= lat <= 72.0 and -16.0 <= lon <= 40.0:
        return f"EPSG:{25800 + zone}"
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def transform_xy(tr: pyproj.Transformer, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply a transformer to coordinate arrays of any length (one-element arrays included).

    pyproj treats one-element arrays as scalars, which newer NumPy deprecates: go through 1-D float arrays.
    """
    xs = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    ys = np.ascontiguousarray(y, dtype=np.float64).reshape(-1)
    if len(xs) == 1:
        ox, oy = tr.transform(float(xs[0]), float(ys[0]))
        return np.array([ox]), np.array([oy])
    ox, oy = tr.transform(xs, ys)
    return np.asarray(ox), np.asarray(oy)


def transform_points(points: np.ndarray, src: str, dst: str) -> np.ndarray:
    """Transform (n, 2) or (n, 3) points horizontally from ``src`` to ``dst``; z is kept.

    points : (n, 2|3) float64
    returns : array of the same shape, float64
    """
    pts = np.asarray(points, dtype=np.float64)
    if src == dst:
        return pts.copy()
    x, y = transform_xy(transformer(src, dst), pts[:, 0], pts[:, 1])
    out = pts.copy()
    out[:, 0] = x
    out[:, 1] = y
    if not np.all(np.isfinite(out[:, :2])):
        raise CRSError(f"points fall outside the area where {src} → {dst} is defined")
    return out


def project_geometry(geometry: G, src: str, dst: str) -> G:
    """A shapely geometry with its x, y from the CRS ``src`` in ``dst`` (2D out; heights are not projected)."""
    if src == dst:
        return geometry
    tr = transformer(src, dst)

    def xy(coords: np.ndarray) -> np.ndarray:
        x, y = transform_xy(tr, coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    projected: G = shapely.transform(geometry, xy)
    return projected


def project_building(building: Building, dst: str) -> Building:
    """The same building with footprint and surfaces in the CRS ``dst`` (heights unchanged)."""
    if building.crs == dst:
        return building
    footprint = None if building.footprint is None else project_geometry(building.footprint, building.crs, dst)
    surfaces = tuple(
        Surface(
            transform_points(s.exterior, building.crs, dst),
            tuple(transform_points(h, building.crs, dst) for h in s.holes),
            s.kind,
        )
        for s in building.surfaces
    )
    return replace(building, crs=dst, footprint=footprint, surfaces=surfaces)


def geodetic_to_ecef(lon: np.ndarray, lat: np.ndarray, height: np.ndarray) -> np.ndarray:
    """WGS 84 longitude/latitude (degrees) and ellipsoidal height (m) to ECEF; returns (n, 3) float64."""
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    h = np.asarray(height, dtype=np.float64)
    n = _A / np.sqrt(1.0 - _E2 * np.sin(phi) ** 2)
    x = (n + h) * np.cos(phi) * np.cos(lam)
    y = (n + h) * np.cos(phi) * np.sin(lam)
    z = (n * (1.0 - _E2) + h) * np.sin(phi)
    return np.column_stack([np.atleast_1d(x), np.atleast_1d(y), np.atleast_1d(z)])


def enu_to_ecef_matrix(lon: float, lat: float, height: float) -> np.ndarray:
    """The (4, 4) matrix taking local east-north-up metres at a point to ECEF."""
    lam, phi = math.radians(lon), math.radians(lat)
    east = np.array([-math.sin(lam), math.cos(lam), 0.0])
    north = np.array([-math.sin(phi) * math.cos(lam), -math.sin(phi) * math.sin(lam), math.cos(phi)])
    up = np.array([math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)])
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2] = east, north, up
    m[:3, 3] = geodetic_to_ecef(np.array([lon]), np.array([lat]), np.array([height]))[0]
    return m


@dataclass(frozen=True)
class Frame:
    """The scene's placement on the globe.

    crs : working CRS (projected, metres)
    origin : (3,) float64, the scene origin in working coordinates; z = 0 is the ground of extruded buildings
    lon, lat : the origin in degrees (WGS 84)
    height : ellipsoidal height (m) of working z = 0 at the origin (ground height + geoid undulation)
    matrix : (4, 4) float64, working coordinates minus ``origin`` → ECEF (an affine fit, see module docs)
    residual : largest error of the affine fit over the sample points, metres
    """

    crs: str
    origin: np.ndarray
    lon: float
    lat: float
    height: float
    matrix: np.ndarray
    residual: float

    @classmethod
    def from_bounds(
        cls, crs: str, bounds: tuple[float, float, float, float], height: float = 0.0, z_range: float = 100.0
    ) -> Frame:
        """Fit the frame for a scene covering ``bounds`` = (minx, miny, maxx, maxy) in ``crs``.

        The origin is the centre of the bounds. ``height`` is the ellipsoidal height of z = 0.
        """
        minx, miny, maxx, maxy = bounds
        if not all(math.isfinite(v) for v in bounds) or maxx < minx or maxy < miny:
            raise CRSError(f"invalid scene bounds {bounds}")
        cx, cy = (minx + maxx) / 2.0, (miny + maxy) / 2.0
        lon, lat = transformer(crs, "EPSG:4326").transform(cx, cy)
        # Sample a 5 x 5 x 2 grid over the extent (a little beyond, so the fit holds at the edges).
        pad_x, pad_y = max((maxx - minx) * 0.1, 50.0), max((maxy - miny) * 0.1, 50.0)
        gx, gy, gz = np.meshgrid(
            np.linspace(minx - pad_x, maxx + pad_x, 5),
            np.linspace(miny - pad_y, maxy + pad_y, 5),
            np.array([0.0, z_range]),
            indexing="ij",
        )
        local = np.column_stack([gx.ravel() - cx, gy.ravel() - cy, gz.ravel()])
        lons, lats = transform_xy(transformer(crs, "EPSG:4326"), gx.ravel(), gy.ravel())
        ecef = geodetic_to_ecef(lons, lats, gz.ravel() + height)
        # Least squares for ecef = local @ A.T + t, solved relative to the origin's ECEF for conditioning.
        o = geodetic_to_ecef(np.array([lon]), np.array([lat]), np.array([height]))[0]
        design = np.column_stack([local, np.ones(len(local))])
        coef, *_ = np.linalg.lstsq(design, ecef - o, rcond=None)
        matrix = np.eye(4)
        matrix[:3, :3] = coef[:3].T
        matrix[:3, 3] = coef[3] + o
        fitted = design @ coef + o
        residual = float(np.max(np.linalg.norm(fitted - ecef, axis=1)))
        return cls(crs, np.array([cx, cy, 0.0]), float(lon), float(lat), float(height), matrix, residual)

    def to_ecef(self, points: np.ndarray) -> np.ndarray:
        """Working coordinates (n, 3) → ECEF (n, 3) through the fitted affine map."""
        local = np.asarray(points, dtype=np.float64) - self.origin
        return local @ self.matrix[:3, :3].T + self.matrix[:3, 3]

    def to_lonlat(self, points: np.ndarray) -> np.ndarray:
        """Working coordinates (n, 2|3) → (n, 2) longitude/latitude in degrees (exact, through pyproj)."""
        pts = np.asarray(points, dtype=np.float64)
        lon, lat = transform_xy(transformer(self.crs, "EPSG:4326"), pts[:, 0], pts[:, 1])
        return np.column_stack([lon, lat])

    def exact_local(self, points: np.ndarray) -> np.ndarray:
        """Working coordinates (n, 3) → the root frame's local coordinates that map *exactly* to ECEF.

        The root transform is affine, so it cannot follow the Earth's curvature (a point 1 km from the origin
        sits ~8 cm below the tangent plane; 10 km away, ~8 m). Encoding every vertex as
        ``inverse(matrix) @ ecef(vertex)`` makes the root transform place it exactly, however large the scene.
        """
        pts = np.asarray(points, dtype=np.float64)
        lonlat = self.to_lonlat(pts)
        ecef = geodetic_to_ecef(lonlat[:, 0], lonlat[:, 1], pts[:, 2] + self.height)
        return (ecef - self.matrix[:3, 3]) @ np.linalg.inv(self.matrix[:3, :3]).T
