"""Roads: OSM tags to widths and kinds, buffered disjoint pieces per class, stacked lifts, draped surfaces."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import LineString, Point, Polygon

from twin.context.osmfeatures import LANE_WIDTH, ROAD_WIDTHS, classify, number, road_width
from twin.context.records import AreaFeature, LineFeature, PointFeature
from twin.context.streets import CLASS_ORDER, class_lift, mesh_roads, road_class, road_pieces
from twin.context.terrain import HeightGrid
from twin.read.osmcontext import OsmElement


def _road(ident: str, coords: list[tuple[float, float]], **tags: str) -> LineFeature:
    tags.setdefault("highway", "residential")
    tags.setdefault("sidewalk", "no")
    return LineFeature(ident, "test", "EPSG:25832", "road", LineString(coords), road_width(tags), tags)


@pytest.mark.parametrize(
    ("tags", "width"),
    [
        ({"highway": "primary", "width": "12"}, 12.0),
        ({"highway": "primary", "width": "7,5 m"}, 7.5),
        ({"highway": "primary", "lanes": "4"}, 4 * LANE_WIDTH),
        ({"highway": "tertiary"}, ROAD_WIDTHS["tertiary"]),
        ({"highway": "footway", "width": "wide"}, 2.0),
        ({"railway": "tram"}, 2.6),
    ],
)
def test_width_from_width_then_lanes_then_class(tags: dict[str, str], width: float) -> None:
    assert road_width(tags) == pytest.approx(width)


def test_number_reads_metres_only() -> None:
    assert number("3") == 3.0 and number("3.5m") == 3.5 and number("0") is None and number("10 ft") is None


def test_classify_kinds_keeps_bridges_and_leaves_out_tunnels() -> None:
    line = LineString([(9.95, 53.57), (9.951, 53.571)])
    road = classify(OsmElement("way/1", line, {"highway": "residential"}))
    assert isinstance(road, LineFeature) and road.kind == "road" and road.width == ROAD_WIDTHS["residential"]
    bridge = classify(OsmElement("way/2", line, {"highway": "primary", "bridge": "yes"}))
    assert isinstance(bridge, LineFeature) and bridge.kind == "road"
    assert classify(OsmElement("way/3", line, {"railway": "rail", "tunnel": "yes"})) is None
    assert classify(OsmElement("way/9", line, {"highway": "service", "layer": "-1"})) is None
    assert classify(OsmElement("way/4", line, {"highway": "proposed"})) is None
    tram = classify(OsmElement("way/5", line, {"railway": "tram"}))
    assert isinstance(tram, LineFeature) and tram.kind == "tram"
    square = Polygon([(9.95, 53.57), (9.951, 53.57), (9.951, 53.571)])
    area = classify(OsmElement("way/6", square, {"highway": "pedestrian", "area": "yes"}))
    assert isinstance(area, AreaFeature) and area.kind == "pedestrian"
    tree = classify(OsmElement("node/7", Point(9.95, 53.57), {"natural": "tree", "height": "12"}))
    assert isinstance(tree, PointFeature) and tree.height == 12.0
    # A closed footway exported as a polygon is a loop of path, not an area.
    loop = classify(OsmElement("way/8", square, {"highway": "footway"}))
    assert isinstance(loop, LineFeature) and loop.kind == "path"


def test_classes_stack_without_z_fighting() -> None:
    lifts = [class_lift(c) for c in CLASS_ORDER]
    assert np.all(np.diff(lifts) >= 0.03)  # well above Draco's 1 cm position step
    assert road_class(_road("a", [(0, 0), (1, 0)], highway="primary")) == "major"
    assert road_class(_road("b", [(0, 0), (1, 0)], highway="service")) == "service"


def test_pieces_of_a_class_are_disjoint_and_cover_the_union() -> None:
    # A crossing of two residential streets: the second keeps only what the first does not cover.
    a = _road("way/1", [(-50, 0), (50, 0)])
    b = _road("way/2", [(0, -50), (0, 50)])
    pieces = road_pieces([a, b])
    assert [line.id for line in pieces.lines] == ["way/1", "way/2"]
    first, second = pieces.polygons
    assert first.intersection(second).area < 1e-6
    assert first.area + second.area == pytest.approx(
        a.geometry.buffer(3, cap_style="flat").union(b.geometry.buffer(3, cap_style="flat")).area, rel=1e-3
    )


def test_surface_is_flat_without_terrain_and_draped_on_it() -> None:
    pieces = road_pieces([_road("way/1", [(0, 0), (100, 0)], highway="primary")])
    flat = mesh_roads(pieces)
    assert flat.triangles >= 2 and np.allclose(flat.positions[:, 2], class_lift("major"))
    assert np.allclose(flat.normals, [0, 0, 1])
    # A slope of 10 % along x, posts every 10 m: the road follows it, cut at the cells.
    x = np.arange(-20, 141, 10.0)
    heights = np.tile(x * 0.1, (5, 1))
    grid = HeightGrid(heights, x0=-20.0, y0=20.0, step=10.0, crs="EPSG:25832")
    draped = mesh_roads(pieces, grid)
    expected = draped.positions[:, 0] * 0.1 + class_lift("major")
    assert np.allclose(draped.positions[:, 2], expected, atol=1e-6)
    assert draped.triangles > flat.triangles
    assert np.all(draped.owner == 0)
