"""Coordinates: projection, ECEF, and the scene frame's placement on the globe."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import box

from twin.crs import Frame, geodetic_to_ecef, parse_crs, project_building, transform_points, utm_crs_for
from twin.errors import CRSError
from twin.records import Building, Surface


def test_geodetic_to_ecef_known_points() -> None:
    # On the equator at the prime meridian, ECEF x is the semi-major axis.
    np.testing.assert_allclose(geodetic_to_ecef([0.0], [0.0], [0.0])[0], [6378137.0, 0.0, 0.0], atol=1e-6)
    # North pole: z is the semi-minor axis b = a (1 - f).
    np.testing.assert_allclose(geodetic_to_ecef([0.0], [90.0], [0.0])[0], [0.0, 0.0, 6356752.314245], atol=1e-3)


def test_geodetic_to_ecef_matches_pyproj() -> None:
    import pyproj

    tr = pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    lon, lat, h = 9.9563, 53.5719, 51.5
    expected = np.array(tr.transform(lon, lat, h))
    np.testing.assert_allclose(geodetic_to_ecef([lon], [lat], [h])[0], expected, atol=1e-4)


def test_utm_zone_choice() -> None:
    assert utm_crs_for(9.95, 53.57) == "EPSG:25832"  # Hamburg: ETRS89 / UTM 32N
    assert utm_crs_for(13.39, 52.52) == "EPSG:25833"  # Berlin
    assert utm_crs_for(-74.0, 40.7) == "EPSG:32618"  # New York: WGS 84 / UTM 18N
    assert utm_crs_for(151.2, -33.9) == "EPSG:32756"  # Sydney: southern hemisphere


def test_round_trip_utm_lonlat() -> None:
    pts = np.array([[9.9563, 53.5719, 3.0], [9.9601, 53.5801, 7.0]])
    utm = transform_points(pts, "EPSG:4326", "EPSG:25832")
    back = transform_points(utm, "EPSG:25832", "EPSG:4326")
    np.testing.assert_allclose(back, pts, atol=1e-9)
    np.testing.assert_array_equal(utm[:, 2], pts[:, 2])  # heights untouched


def test_compound_crs_keeps_heights() -> None:
    assert parse_crs("EPSG:25832+7837").is_compound
    pts = np.array([[364500.0, 5650500.0, 80.0]])
    out = transform_points(pts, "EPSG:25832+7837", "EPSG:25832")
    np.testing.assert_allclose(out, pts)


def test_unknown_crs_is_a_clear_error() -> None:
    with pytest.raises(CRSError, match="EPSG:999999"):
        parse_crs("EPSG:999999")


def test_project_building_moves_footprint_and_surfaces() -> None:
    ring = np.array([[9.95, 53.57, 1.0], [9.951, 53.57, 1.0], [9.951, 53.571, 1.0]])
    b = Building("b", "t", "EPSG:4326", box(9.95, 53.57, 9.951, 53.571), surfaces=(Surface(ring),))
    p = project_building(b, "EPSG:25832")
    assert p.crs == "EPSG:25832"
    # About 66 m by 111 m at this latitude.
    minx, miny, maxx, maxy = p.footprint.bounds
    assert 60 < maxx - minx < 70 and 105 < maxy - miny < 115
    assert p.surfaces[0].exterior[0, 2] == 1.0


@pytest.mark.parametrize("distance", [0.0, 1000.0, 20000.0])
def test_frame_places_points_exactly(distance: float) -> None:
    """exact_local + the root transform lands on the true ECEF position (mm) even 20 km out."""
    frame = Frame.from_bounds("EPSG:25832", (563000, 5935000, 565000, 5937000), height=51.5)
    p = np.array([[564000 + distance, 5936000 + distance / 2, 12.0]])
    ecef = frame.exact_local(p) @ frame.matrix[:3, :3].T + frame.matrix[:3, 3]
    lonlat = transform_points(p, "EPSG:25832", "EPSG:4326")
    truth = geodetic_to_ecef(lonlat[:, 0], lonlat[:, 1], [12.0 + 51.5])
    np.testing.assert_allclose(ecef, truth, atol=1e-3)


def test_frame_origin_and_affine_residual() -> None:
    frame = Frame.from_bounds("EPSG:25832", (563000, 5935000, 565000, 5937000), height=51.5)
    assert frame.lon == pytest.approx(9.9664, abs=1e-3) and frame.lat == pytest.approx(53.569, abs=1e-3)
    # The affine fit alone is off only by the Earth's curvature over the (padded) extent: centimetres.
    assert frame.residual < 0.2
    # The root transform's up axis points away from the Earth's centre.
    up = frame.matrix[:3, 2] / np.linalg.norm(frame.matrix[:3, 2])
    centre = frame.matrix[:3, 3] / np.linalg.norm(frame.matrix[:3, 3])
    assert float(up @ centre) > 0.99


def test_frame_rejects_bad_bounds() -> None:
    with pytest.raises(CRSError):
        Frame.from_bounds("EPSG:25832", (1.0, 1.0, 0.0, float("nan")))
