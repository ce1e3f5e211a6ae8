"""Georeferencing: each route puts a local point at its known UTM and ECEF position within 1 cm."""

from __future__ import annotations

import math
from pathlib import Path

import ifcopenshell
import ifcopenshell.api
import ifcopenshell.api.georeference
import ifcopenshell.api.project
import ifcopenshell.util.geolocation
import numpy as np
import pyproj
import pytest

from twin.crs import Frame
from twin.designs.georef import grid_factors, place
from twin.designs.load import load_design
from twin.designs.model import Anchor, Design
from twin.errors import DesignError

from .conftest import FIXTURES

UTM32 = "EPSG:25832"
GEOD = pyproj.Geod(ellps="GRS80")
TO_UTM = pyproj.Transformer.from_crs("EPSG:4326", UTM32, always_xy=True)
TO_ECEF = pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)

# FZK-Haus IfcSite: 49°6'1.566"N, 8°26'11.5404"E, RefElevation 110 m (normal height).
FZK_LAT = 49 + 6 / 60 + 1.566 / 3600
FZK_LON = 8 + 26 / 60 + 11.5404 / 3600


def expected(lon: float, lat: float, az: float, dist: float, ellipsoidal: float) -> tuple[np.ndarray, np.ndarray]:
    """UTM 32 (x, y) and ECEF of the point ``dist`` m from lon/lat at azimuth ``az`` (geodesic, independent)."""
    lon2, lat2, _ = GEOD.fwd(lon, lat, az, dist)
    utm = np.array(TO_UTM.transform(lon2, lat2))
    ecef = np.array(TO_ECEF.transform(lon2, lat2, ellipsoidal))
    return utm, ecef


def landed(placement, frame: Frame, local: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Where the tiles put a local point: working CRS, then the root frame's exact map to ECEF."""
    world = placement.apply(np.array([local]))
    ecef = frame.exact_local(world) @ frame.matrix[:3, :3].T + frame.matrix[:3, 3]
    return world[0], ecef[0]


def frame_at(placement, height: float) -> Frame:
    x, y = placement.matrix[0, 3], placement.matrix[1, 3]
    return Frame.from_bounds(placement.crs, (x - 400, y - 300, x + 400, y + 300), height=height)


def test_convergence_matches_projected_north() -> None:
    for lon, lat in [(10.0, 53.55), (8.43654, 49.1004), (11.9, 48.1)]:
        gamma, k = grid_factors(UTM32, lon, lat)
        x0, y0 = TO_UTM.transform(lon, lat)
        x1, y1 = TO_UTM.transform(lon, lat + 1e-4)
        assert gamma == pytest.approx(math.degrees(math.atan2(x1 - x0, y1 - y0)), abs=1e-5)
        assert k == pytest.approx(math.hypot(x1 - x0, y1 - y0) / GEOD.inv(lon, lat, lon, lat + 1e-4)[2], rel=1e-6)
    # Hamburg is east of zone 32's central meridian: grid north is east of true north (~0.8°).
    assert grid_factors(UTM32, 10.0, 53.55)[0] == pytest.approx(-0.8044, abs=1e-3)


def test_site_route_fzk(fzk: Design) -> None:
    ground, undulation = 150.0, 47.5
    p = place(fzk, UTM32, ground_height=ground, geoid_undulation=undulation)
    assert p.route == "site"
    # TrueNorth (0.766, 0.643): project +Y points 50° west of true north, as IfcOpenShell reads it too.
    f = ifcopenshell.open(str(FIXTURES / "AC20-FZK-Haus.ifc"))
    assert p.heading == pytest.approx(ifcopenshell.util.geolocation.get_true_north(f), abs=1e-6)
    assert p.heading == pytest.approx(-50.0, abs=1e-6)
    frame = frame_at(p, ground)
    # The origin: RefLatitude/RefLongitude at RefElevation 110 m (normal) = 157.5 m ellipsoidal.
    world, ecef = landed(p, frame, [0.0, 0.0, 0.0])
    utm, want_ecef = expected(FZK_LON, FZK_LAT, 0.0, 0.0, 110.0 + undulation)
    assert np.abs(world[:2] - utm).max() < 0.01
    assert world[2] == pytest.approx(110.0 + undulation - ground)
    assert np.linalg.norm(ecef - want_ecef) < 0.01
    # A point 10 m along local +X, 3 m up: true azimuth of +X = heading + 90° = 40°.
    world, ecef = landed(p, frame, [10.0, 0.0, 3.0])
    utm, want_ecef = expected(FZK_LON, FZK_LAT, 40.0, 10.0, 113.0 + undulation)
    assert np.abs(world[:2] - utm).max() < 0.01
    assert np.linalg.norm(ecef - want_ecef) < 0.01
    report = p.report()
    assert report["origin"]["normal_height"] == pytest.approx(110.0)
    assert len(report["footprint_corners"]) == 4
    assert report["top"]["normal_height"] == pytest.approx(110.0 + fzk.bounds[1][2], abs=1e-3)


def _map_conversion_ifc(path: Path) -> None:
    """A one-wall IFC4 in millimetres with IfcMapConversion to EPSG:25832 (map unit metre, X axis at 30°)."""
    f = ifcopenshell.api.project.create_file(version="IFC4")
    run = ifcopenshell.api.run
    project = run("root.create_entity", f, ifc_class="IfcProject", name="P")
    run("unit.assign_unit", f, length={"is_metric": True, "raw": "MILLIMETERS"})
    model = run("context.add_context", f, context_type="Model")
    body = run(
        "context.add_context",
        f,
        context_type="Model",
        context_identifier="Body",
        target_view="MODEL_VIEW",
        parent=model,
    )
    site = run("root.create_entity", f, ifc_class="IfcSite", name="S")
    storey = run("root.create_entity", f, ifc_class="IfcBuildingStorey", name="EG")
    run("aggregate.assign_object", f, relating_object=project, products=[site])
    run("aggregate.assign_object", f, relating_object=site, products=[storey])
    wall = run("root.create_entity", f, ifc_class="IfcWall", name="W1")
    run("geometry.edit_object_placement", f, product=wall)
    rep = run("geometry.add_wall_representation", f, context=body, length=10.0, height=3.0, thickness=0.2)
    run("geometry.assign_representation", f, product=wall, representation=rep)
    run("spatial.assign_container", f, relating_structure=storey, products=[wall])
    ifcopenshell.api.georeference.add_georeferencing(f)
    metre = f.createIfcSIUnit(None, "LENGTHUNIT", None, "METRE")
    ifcopenshell.api.georeference.edit_georeferencing(
        f,
        projected_crs={"Name": "EPSG:25832", "MapUnit": metre},
        coordinate_operation={
            "Eastings": 456000.0,
            "Northings": 5438000.0,
            "OrthogonalHeight": 112.0,
            "XAxisAbscissa": math.cos(math.radians(30)),
            "XAxisOrdinate": math.sin(math.radians(30)),
            "Scale": 0.001,  # millimetres to metres, as IFC4 defines it
        },
    )
    f.write(str(path))


def test_map_conversion_route(tmp_path: Path) -> None:
    path = tmp_path / "mapconv.ifc"
    _map_conversion_ifc(path)
    design = load_design(path)
    assert design.georef is not None and design.georef.route == "map_conversion"
    np.testing.assert_allclose(design.bounds[1] - design.bounds[0], [10.0, 0.2, 3.0], atol=1e-6)  # mm → m
    p = place(design, UTM32, ground_height=160.0, geoid_undulation=48.0)
    assert p.route == "map_conversion" and p.notes == ()
    frame = frame_at(p, 160.0)
    # In its own map CRS the conversion is exact: E + R(30°) (10, 0).
    world, ecef = landed(p, frame, [10.0, 0.0, 2.0])
    want = np.array([456000.0 + 10 * math.cos(math.radians(30)), 5438000.0 + 10 * math.sin(math.radians(30))])
    assert np.abs(world[:2] - want).max() < 0.001
    assert world[2] == pytest.approx(112.0 + 48.0 - 160.0 + 2.0)
    lon, lat = pyproj.Transformer.from_crs(UTM32, "EPSG:4326", always_xy=True).transform(*want)
    assert np.linalg.norm(ecef - np.array(TO_ECEF.transform(lon, lat, 112.0 + 48.0 + 2.0))) < 0.01
    # In another working CRS (UTM 33) the same point lands where pyproj puts the map coordinates.
    p33 = place(design, "EPSG:25833", ground_height=160.0, geoid_undulation=48.0)
    want33 = pyproj.Transformer.from_crs(UTM32, "EPSG:25833", always_xy=True).transform(*want)
    assert np.abs(p33.apply(np.array([[10.0, 0.0, 2.0]]))[0, :2] - want33).max() < 0.01


def test_anchor_lonlat_heading_and_datum(house: Design) -> None:
    anchor = Anchor(lon=10.0, lat=53.55, elevation=12.0, datum="DHHN2016", heading=30.0)
    p = place(house, UTM32, anchor, ground_height=45.0, geoid_undulation=39.5)
    assert p.route == "anchor"
    frame = frame_at(p, 45.0)
    # Local +Y at true heading 30°; the grid heading differs by the convergence (~0.8° here).
    world, ecef = landed(p, frame, [0.0, 10.0, 5.0])
    utm, want_ecef = expected(10.0, 53.55, 30.0, 10.0, 12.0 + 39.5 + 5.0)
    assert np.abs(world[:2] - utm).max() < 0.01
    assert world[2] == pytest.approx(12.0 + 39.5 - 45.0 + 5.0)
    assert np.linalg.norm(ecef - want_ecef) < 0.01
    assert p.report()["heading_grid"] == pytest.approx(30.0 - 0.8044, abs=1e-3)


def test_anchor_easting_northing_in_another_crs(house: Design) -> None:
    # ETRS89 / UTM 33 coordinates of a point in Hamburg (zone 32): placed in zone 32.
    e33, n33 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:25833", always_xy=True).transform(10.0, 53.55)
    anchor = Anchor(easting=e33, northing=n33, crs="EPSG:25833", elevation=0.0, heading=-20.0)
    p = place(house, UTM32, anchor)
    world = p.apply(np.array([[0.0, 0.0, 0.0], [0.0, 25.0, 0.0]]))
    origin_utm, _ = expected(10.0, 53.55, 0.0, 0.0, 0.0)
    along_utm, _ = expected(10.0, 53.55, -20.0, 25.0, 0.0)
    assert np.abs(world[0, :2] - origin_utm).max() < 0.01
    assert np.abs(world[1, :2] - along_utm).max() < 0.01


@pytest.mark.parametrize(
    ("datum", "z"), [("ground", 3.0), ("ellipsoidal", 3.0 - 45.0), ("DHHN2016", 3.0 + 39.5 - 45.0)]
)
def test_anchor_datums(house: Design, datum: str, z: float) -> None:
    p = place(
        house, UTM32, Anchor(lon=10.0, lat=53.55, elevation=3.0, datum=datum), ground_height=45.0, geoid_undulation=39.5
    )
    assert p.matrix[2, 3] == pytest.approx(z)


def test_anchor_scale(house: Design) -> None:
    p = place(house, UTM32, Anchor(lon=10.0, lat=53.55, scale=2.0))
    a, b = p.apply(np.array([[0.0, 0.0, 0.0], [0.0, 10.0, 4.0]]))
    assert b[2] - a[2] == pytest.approx(8.0)
    assert math.hypot(*(b[:2] - a[:2])) == pytest.approx(20.0 * grid_factors(UTM32, 10.0, 53.55)[1], rel=1e-9)


@pytest.mark.parametrize(("name", "heading"), [("house", 0.0), ("house", 37.5), ("fzk", 120.0)])
def test_anchor_by_footprint_centre(request: pytest.FixtureRequest, name: str, heading: float) -> None:
    """``point = "centre"``: the footprint's centroid lands at the anchor, the origin metres away from it
    (the GLB house and the FZK-Haus IFC, whose origin is a corner)."""
    from twin.designs.metrics import footprint_centre

    house: Design = request.getfixturevalue(name)

    cx, cy = footprint_centre(house)
    assert math.hypot(cx, cy) > 5  # the house's origin lies outside it: anchoring by origin would miss
    p = place(house, UTM32, Anchor(lon=10.0, lat=53.55, heading=heading, point="centre"))
    utm, _ = expected(10.0, 53.55, 0.0, 0.0, 0.0)
    assert np.abs(p.apply(np.array([[cx, cy, 0.0]]))[0, :2] - utm).max() < 0.01
    report = p.report()
    assert report["anchor_point"] == "centre"
    assert report["footprint_centre"]["lon"] == pytest.approx(10.0, abs=1e-7)
    assert report["footprint_centre"]["lat"] == pytest.approx(53.55, abs=1e-7)
    # The same placement by origin: the origin at the point the centre anchor computed.
    by_origin = place(house, UTM32, Anchor(lon=p.lon, lat=p.lat, heading=heading))
    assert np.abs(by_origin.matrix - p.matrix).max() < 0.005
    assert report["footprint_outline"] and all(len(r) >= 4 for r in report["footprint_outline"])
    with pytest.raises(ValueError, match="anchor point"):
        Anchor(lon=10.0, lat=53.55, point="corner")


def test_explicit_anchor_wins_over_file(fzk: Design) -> None:
    p = place(fzk, UTM32, Anchor(lon=10.0, lat=53.55))
    assert p.route == "anchor" and p.lon == 10.0


def test_no_georeference_needs_anchor() -> None:
    design = load_design(FIXTURES / "box.gltf")
    with pytest.raises(DesignError, match="anchor"):
        place(design, UTM32)


def test_bad_anchor_and_working_crs(house: Design) -> None:
    with pytest.raises(ValueError, match="either lon and lat"):
        Anchor(lon=10.0)
    with pytest.raises(ValueError, match="datum"):
        Anchor(lon=10.0, lat=53.5, datum="NN")
    with pytest.raises(DesignError, match="not projected"):
        place(house, "EPSG:4326", Anchor(lon=10.0, lat=53.55))
