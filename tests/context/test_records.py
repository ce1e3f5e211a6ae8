"""Context records (terrain, lines, areas, points): checks at construction and projection into the working CRS."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import LineString, Point, Polygon

from twin.context.project import project_feature, project_terrain
from twin.context.records import AreaFeature, LineFeature, PointFeature, Terrain
from twin.crs import transform_points
from twin.errors import InvalidGeometry

# Hamburg-Eimsbüttel: WGS 84 and its UTM zone (ETRS89 / UTM 32N).
LON, LAT = 9.956, 53.576
UTM = "EPSG:25832"


def test_features_project_like_buildings() -> None:
    road = LineFeature(
        "way/1", "osm", "EPSG:4326", "road", LineString([(LON, LAT), (LON + 0.001, LAT)]), 6.5, {"highway": "primary"}
    )
    park = AreaFeature(
        "way/2",
        "osm",
        "EPSG:4326",
        "green",
        Polygon([(LON, LAT), (LON + 0.001, LAT), (LON + 0.001, LAT + 0.001), (LON, LAT + 0.001)]),
    )
    tree = PointFeature("node/3", "osm", "EPSG:4326", "tree", Point(LON, LAT), height=12.0, size=6.0)
    want = transform_points(np.array([[LON, LAT, 0.0], [LON + 0.001, LAT, 0.0]]), "EPSG:4326", UTM)[:, :2]
    r = project_feature(road, UTM)
    assert r.crs == UTM and r.width == 6.5 and r.tags == {"highway": "primary"}
    np.testing.assert_allclose(np.asarray(r.geometry.coords), want, atol=1e-6)
    assert 60 < r.geometry.length < 75  # 0.001° of longitude at 53.6° N is about 66 m
    p = project_feature(park, UTM)
    assert p.crs == UTM and 66 * 111 * 0.9 < p.geometry.area < 66 * 111 * 1.1
    t = project_feature(tree, UTM)
    np.testing.assert_allclose([t.geometry.x, t.geometry.y], want[0], atol=1e-6)
    assert (t.height, t.size, t.kind) == (12.0, 6.0, "tree")
    assert project_feature(t, UTM) is t


def test_records_refuse_broken_input() -> None:
    with pytest.raises(InvalidGeometry, match="expected LineString or MultiLineString"):
        LineFeature("way/1", "osm", UTM, "road", Point(0, 0))  # type: ignore[arg-type]
    with pytest.raises(InvalidGeometry, match="width"):
        LineFeature("way/1", "osm", UTM, "road", LineString([(0, 0), (1, 0)]), width=-2.0)
    with pytest.raises(InvalidGeometry, match="empty"):
        AreaFeature("way/2", "osm", UTM, "water", Polygon())
    with pytest.raises(InvalidGeometry, match="NaN"):
        PointFeature("node/3", "osm", UTM, "tree", Point(float("nan"), 0))
    with pytest.raises(InvalidGeometry, match="height"):
        PointFeature("node/3", "osm", UTM, "tree", Point(0, 0), height=float("inf"))
    with pytest.raises(InvalidGeometry, match="rows, cols"):
        Terrain(np.zeros(4, np.float32), (1, 0, 0, 0, -1, 0), UTM)
    with pytest.raises(InvalidGeometry, match="singular"):
        Terrain(np.zeros((3, 3), np.float32), (1, 1, 0, 1, 1, 0), UTM)
    with pytest.raises(InvalidGeometry, match="datum"):
        Terrain(np.zeros((3, 3), np.float32), (1, 0, 0, 0, -1, 0), UTM, datum="dhhn")


def test_terrain_samples_between_cell_centres() -> None:
    # 3 x 4 cells of 10 m, north up, top-left corner at (1000, 2000); heights 100.5 + col + row.
    values = np.array([[100.5 + c + r for c in range(4)] for r in range(3)], np.float32)
    values[2, 3] = np.nan
    t = Terrain(values, (10.0, 0.0, 1000.0, 0.0, -10.0, 2000.0), UTM)
    assert t.bounds() == (1000.0, 1970.0, 1040.0, 2000.0)
    x, y = t.centres()
    assert (x[0, 0], y[0, 0]) == (1005.0, 1995.0)
    got = t.sample(
        np.array([1005.0, 1010.0, 1015.0, 1000.0, 1035.0]), np.array([1995.0, 1990.0, 1985.0, 1995.0, 1975.0])
    )
    np.testing.assert_allclose(got[:3], [100.5, 101.5, 102.5])
    assert np.isnan(got[3]) and np.isnan(got[4])  # outside the centres; next to the no-data cell


def test_terrain_projects_onto_a_north_up_working_grid() -> None:
    # A 30" x 30" geographic DEM (about 555 m north-south) tilting 1 m per cell to the east.
    cell = 1 / 120
    values = np.array([[40.0 + c for c in range(60)] for _ in range(60)], np.float32)
    t = Terrain(values, (cell, 0.0, LON - 0.25, 0.0, -cell, LAT + 0.25), "EPSG:4326", source="srtm")
    w = project_terrain(t, UTM)
    assert w.crs == UTM and w.datum == "normal" and w.source == "srtm"
    a, b, _, d, e, _ = w.transform
    assert b == d == 0 and a == -e and 0.5 * 1000 * cell * 60 < a < 1000 * cell * 111  # about 550 m cells
    # The same heights at the same places: sample the working grid at projected points inside.
    lon = LON + np.array([-0.1, 0.0, 0.12])
    lat = LAT + np.array([0.05, 0.0, -0.1])
    xy = transform_points(np.column_stack([lon, lat, np.zeros(3)]), "EPSG:4326", UTM)
    np.testing.assert_allclose(w.sample(xy[:, 0], xy[:, 1]), t.sample(lon, lat), atol=0.6)
    assert project_terrain(w, UTM) is w
