"""Place a design in the scene's working CRS.

Every route ends in the same small description of where the design stands: the longitude/latitude of its
local origin, the working z of that origin, the heading of its +Y axis from *true* north, and its true scale.
:func:`place` turns that into one (4, 4) matrix into the working CRS, applying at the origin

- the meridian convergence: grid north of a projected CRS is rotated against true north (about -0.43° at
  Karlsruhe in UTM 32, +0.8° in Hamburg), so a heading from true north becomes a grid heading;
- the projection's point scale factor (0.9996 near a UTM central meridian): design metres are true metres,
  grid metres are not.

Routes, in the order tried: an explicit :class:`Anchor` given by the planner (it wins over what the file says,
because the planner gives it on purpose — often to move a design exported at a dummy position), then the
file's IfcMapConversion/IfcProjectedCRS, then its IfcSite RefLatitude/RefLongitude/RefElevation with TrueNorth.

Heights: the scene's ground (working z = 0) sits at ellipsoidal height ``ground_height``. Normal heights
(DHHN2016, IFC RefElevation and OrthogonalHeight) become ellipsoidal by adding ``geoid_undulation``: no geoid
grid (GCG2016, EGM2008) is reachable through pyproj offline, so the scene states the undulation at its origin
(GCG2016 in Germany: about 47–48 m in Karlsruhe, 39–40 m in Hamburg); over a design's few metres it is
constant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyproj

from twin.crs import geodetic_to_ecef, horizontal_crs, transform_points, transformer
from twin.errors import CRSError, DesignError

from .model import Anchor, Design, FileGeoref, Placement

WGS84 = "EPSG:4326"


@dataclass(frozen=True, slots=True)
class _Geo:
    """Where a design's local origin is: degrees, working z, true heading of +Y, true metres per local metre
    (horizontal ``scale`` and ``vertical`` scale differ for map conversions: the map grid's scale factor
    applies to the plane only)."""

    lon: float
    lat: float
    z: float
    heading: float
    scale: float
    vertical: float
    route: str
    notes: tuple[str, ...] = ()


def grid_factors(crs: str, lon: float, lat: float) -> tuple[float, float]:
    """(grid azimuth of true north in degrees clockwise from grid north, point scale factor) at lon/lat.

    pyproj's ``meridian_convergence`` is the angle from true north to grid north, so true north points
    ``-meridian_convergence`` from grid north (checked against projecting a point a step north).
    """
    proj = pyproj.Proj(horizontal_crs(crs))
    if not proj.crs.is_projected:
        raise CRSError(f"working CRS {crs} is not projected (metres)")
    f = proj.get_factors(lon, lat)
    k = math.sqrt(f.meridional_scale * f.parallel_scale)
    if not (math.isfinite(f.meridian_convergence) and math.isfinite(k) and k > 0):
        raise CRSError(f"{crs} is not defined at lon {lon:.6f}, lat {lat:.6f}")
    return -float(f.meridian_convergence), float(k)


def _transform_one(x: float, y: float, src: str, dst: str) -> tuple[float, float]:
    """One point through pyproj as plain floats (1-element arrays trip a NumPy deprecation in pyproj)."""
    a, b = transformer(src, dst).transform(float(x), float(y))
    if not (math.isfinite(a) and math.isfinite(b)):
        raise CRSError(f"({x}, {y}) falls outside the area where {src} → {dst} is defined")
    return float(a), float(b)


def _lonlat(x: float, y: float, crs: str) -> tuple[float, float]:
    return _transform_one(x, y, crs, WGS84)


def _height_to_z(value: float, datum: str, ground_height: float, geoid_undulation: float) -> float:
    """Working z of a height given in ``datum`` (any datum but ground and ellipsoidal is a normal height)."""
    if datum == "ground":
        return value
    if datum == "ellipsoidal":
        return value - ground_height
    return value + geoid_undulation - ground_height


def _from_anchor(anchor: Anchor, ground_height: float, geoid_undulation: float) -> _Geo:
    if anchor.lon is not None and anchor.lat is not None:
        lon, lat = anchor.lon, anchor.lat
    else:
        assert anchor.easting is not None and anchor.northing is not None and anchor.crs is not None
        lon, lat = _lonlat(anchor.easting, anchor.northing, anchor.crs)
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise DesignError(f"anchor position lon {lon}, lat {lat} is not on the globe")
    z = _height_to_z(anchor.elevation, anchor.datum, ground_height, geoid_undulation)
    return _Geo(lon, lat, z, anchor.heading, anchor.scale, anchor.scale, "anchor")


def _from_map_conversion(ref: FileGeoref, ground_height: float, geoid_undulation: float) -> _Geo:
    assert ref.crs is not None
    try:
        lon, lat = _lonlat(ref.easting, ref.northing, ref.crs)
        gamma, k = grid_factors(ref.crs, lon, lat)
    except CRSError as exc:
        raise DesignError(f"IfcMapConversion: {exc}") from exc
    # The local +X axis points at angle alpha counter-clockwise from grid east, so +Y has grid azimuth
    # -alpha (clockwise from grid north); add true north's azimuth back to get the true heading.
    alpha = math.degrees(math.atan2(ref.x_axis[1], ref.x_axis[0])) if ref.x_axis else 0.0
    heading = -alpha - gamma
    z = _height_to_z(ref.height, "normal", ground_height, geoid_undulation)
    return _Geo(lon, lat, z, heading, ref.scale / k, ref.scale, "map_conversion", ref.notes)


def _from_site(ref: FileGeoref, ground_height: float, geoid_undulation: float) -> _Geo:
    # TrueNorth is the direction of true north in the local XY plane; +Y is then rotated by minus its
    # clockwise angle from +Y.
    heading = 0.0
    if ref.true_north is not None:
        heading = -math.degrees(math.atan2(ref.true_north[0], ref.true_north[1]))
    z = _height_to_z(ref.height, "normal", ground_height, geoid_undulation)
    return _Geo(ref.lon, ref.lat, z, heading, 1.0, 1.0, "site", ref.notes)


def _matrix(
    geo: _Geo, working_crs: str, centre: tuple[float, float] | None = None
) -> tuple[np.ndarray, float, float, float]:
    """(matrix design-local → working CRS, grid azimuth of true north, grid heading (degrees), grid scale).

    centre : the local point that lands at the position (the footprint's centre), ``None`` for the origin.
    Raises :class:`CRSError` where the working CRS is not defined.
    """
    origin = _transform_one(geo.lon, geo.lat, WGS84, working_crs)
    gamma, k = grid_factors(working_crs, geo.lon, geo.lat)
    grid_heading = math.radians(geo.heading + gamma)
    s = geo.scale * k
    c, n = math.cos(grid_heading), math.sin(grid_heading)
    matrix = np.eye(4)
    # Columns are the images of local +X (grid azimuth heading + 90°) and +Y (grid azimuth heading).
    matrix[:2, :2] = s * np.array([[c, n], [-n, c]])
    matrix[2, 2] = geo.vertical  # heights are true metres; the projection scales only the plane
    matrix[:3, 3] = [origin[0], origin[1], geo.z]
    if centre is not None:
        # The position names the footprint's centre: the origin lies where the placed centre offset takes it.
        matrix[:2, 3] -= matrix[:2, :2] @ np.asarray(centre, dtype=np.float64)
    return matrix, gamma, math.degrees(grid_heading), s


def anchor_matrix(anchor: Anchor, working_crs: str, centre: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """The (4, 4) matrix design-local → working CRS an anchor gives, without loading the design (the planner's
    preview of a placement): ``centre`` is the design's footprint centre (used when ``anchor.point`` is
    ``"centre"``); heights as given (a ground datum, no terrain). Raises :class:`DesignError`."""
    geo = _from_anchor(anchor, 0.0, 0.0)
    try:
        return _matrix(geo, working_crs, centre if anchor.point == "centre" else None)[0]
    except CRSError as exc:
        raise DesignError(f"anchor: {exc}") from exc


def place(
    design: Design,
    working_crs: str,
    anchor: Anchor | None = None,
    *,
    ground_height: float = 0.0,
    geoid_undulation: float = 0.0,
) -> Placement:
    """Place ``design`` in ``working_crs``: an explicit ``anchor`` if given, else the file's own georeference.

    ground_height : ellipsoidal height (m) of the scene's ground z = 0 (:attr:`twin.crs.Frame.height`)
    geoid_undulation : geoid height above the ellipsoid at the scene (m), for normal heights
    Raises :class:`DesignError` when the design has no georeference and no anchor is given.
    """
    if anchor is not None:
        geo = _from_anchor(anchor, ground_height, geoid_undulation)
    elif design.georef is not None and design.georef.route == "map_conversion":
        geo = _from_map_conversion(design.georef, ground_height, geoid_undulation)
    elif design.georef is not None and design.georef.route == "site":
        geo = _from_site(design.georef, ground_height, geoid_undulation)
    else:
        raise DesignError(
            f"design {design.id!r} ({design.source}) carries no georeference: give an anchor "
            "(lon/lat or easting/northing, elevation, heading)"
        )
    centre = None
    if anchor is not None and anchor.point == "centre":
        from .metrics import footprint_centre

        centre = footprint_centre(design)
    try:
        matrix, gamma, grid_heading, s = _matrix(geo, working_crs, centre)
        lon, lat = _lonlat(float(matrix[0, 3]), float(matrix[1, 3]), working_crs) if centre else (geo.lon, geo.lat)
    except CRSError as exc:
        raise DesignError(f"design {design.id!r}: {exc}") from exc
    placement = Placement(
        matrix=matrix,
        crs=working_crs,
        route=geo.route,
        lon=lon,
        lat=lat,
        ground_height=ground_height,
        geoid_undulation=geoid_undulation,
        heading=geo.heading,
        convergence=-gamma,
        scale=s,
        notes=geo.notes,
    )
    point = anchor.point if anchor is not None else "origin"
    report = _report(design, placement, grid_heading_deg=grid_heading, true_scale=geo.scale, anchor_point=point)
    object.__setattr__(placement, "report_data", report)
    return placement


#: A design whose origin lands farther than this (metres) from the scene's centre is refused: its
#: georeference is wrong (IfcSite defaults, another project's coordinates) or it belongs to another scene.
MAX_DISTANCE_FROM_SCENE = 50_000.0


def check_near_scene(
    design: Design, placement: Placement, origin: np.ndarray, limit: float = MAX_DISTANCE_FROM_SCENE
) -> None:
    """Refuse a placement whose origin lands more than ``limit`` metres from ``origin`` (the scene's centre,
    working coordinates), naming the distance and the route that put it there."""
    at = np.asarray(placement.matrix[:2, 3], dtype=np.float64)
    distance = float(np.hypot(*(at - np.asarray(origin, dtype=np.float64)[:2])))
    if not math.isfinite(distance) or distance > limit:
        how = "its anchor" if placement.route == "anchor" else f"the file's own georeference ({placement.route})"
        raise DesignError(
            f"design {design.name!r} ({design.source}) would stand {distance / 1000:,.0f} km from the scene's centre "
            f"(at lon {placement.lon:.5f}, lat {placement.lat:.5f}, placed by {how}); "
            "give an anchor inside the scene"
        )


def _point(placement: Placement, local: np.ndarray) -> list[dict[str, Any]]:
    """Where local points land: working x/y/z, lon/lat, ellipsoidal and normal heights, ECEF."""
    world = placement.apply(local)
    ll = transform_points(world[:, :2], placement.crs, WGS84)
    ellipsoidal = world[:, 2] + placement.ground_height
    ecef = geodetic_to_ecef(ll[:, 0], ll[:, 1], ellipsoidal)
    return [
        {
            "local": [round(float(v), 4) for v in p],
            "x": round(float(w[0]), 4),
            "y": round(float(w[1]), 4),
            "z": round(float(w[2]), 4),
            "lon": round(float(g[0]), 9),
            "lat": round(float(g[1]), 9),
            "ellipsoidal_height": round(float(h), 4),
            "normal_height": round(float(h - placement.geoid_undulation), 4),
            "ecef": [round(float(v), 4) for v in e],
        }
        for p, w, g, h, e in zip(local, world, ll, ellipsoidal, ecef, strict=True)
    ]


def _report(
    design: Design, placement: Placement, *, grid_heading_deg: float, true_scale: float, anchor_point: str
) -> dict[str, Any]:
    from .metrics import footprint_centre, footprint_rings

    lo, hi = design.bounds
    corners = np.array([[lo[0], lo[1], lo[2]], [hi[0], lo[1], lo[2]], [hi[0], hi[1], lo[2]], [lo[0], hi[1], lo[2]]])
    top = np.array([[(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0, hi[2]]])
    centre = np.array([[*footprint_centre(design), lo[2]]])
    points = _point(placement, np.concatenate([np.zeros((1, 3)), corners, top, centre]))
    outline = []
    for ring in footprint_rings(design):
        world = placement.apply(np.column_stack([np.asarray(ring), np.full(len(ring), lo[2])]))
        ll = transform_points(world[:, :2], placement.crs, WGS84)
        outline.append([[round(float(a), 8), round(float(b), 8)] for a, b in ll])
    return {
        # The planner's names: the design's title and the file as uploaded (never the stored "design.ifc").
        "design": design.name,
        "design_id": design.id,
        "file": design.source,
        "route": placement.route,
        "crs": placement.crs,
        "heading_true": round(placement.heading, 6),
        "heading_grid": round(grid_heading_deg, 6),
        "meridian_convergence": round(placement.convergence, 6),
        "scale": round(true_scale, 9),
        "grid_scale": round(placement.scale, 9),
        "ground_height": placement.ground_height,
        "geoid_undulation": placement.geoid_undulation,
        "size": [round(float(v), 3) for v in hi - lo],
        "anchor_point": anchor_point,
        "origin": points[0],
        "footprint_centre": points[6],
        "footprint_corners": points[1:5],
        "footprint_outline": outline,
        "top": points[5],
        "notes": list(placement.notes),
    }
