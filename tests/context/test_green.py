"""Areas: kinds from OSM tags, drawing order below the roads, colours by kind, holes kept."""

from __future__ import annotations

import numpy as np
from shapely.geometry import Polygon

from twin.context.green import AREA_COLORS, area_lift, area_pieces, mesh_areas
from twin.context.osmfeatures import area_kind
from twin.context.records import AreaFeature
from twin.context.streets import CLASS_ORDER, class_lift


def _area(ident: str, kind: str, polygon: Polygon) -> AreaFeature:
    return AreaFeature(ident, "test", "EPSG:25832", kind, polygon, {"leisure": kind})


def test_kinds_from_tags() -> None:
    assert area_kind({"leisure": "park"}) == "park"
    assert area_kind({"landuse": "forest"}) == "forest" and area_kind({"natural": "wood"}) == "forest"
    assert area_kind({"natural": "water"}) == "water" and area_kind({"waterway": "riverbank"}) == "water"
    assert area_kind({"amenity": "parking"}) == "parking" and area_kind({"landuse": "farmland"}) == "farmland"
    assert area_kind({"landuse": "grass"}) == "grass" and area_kind({"place": "square"}) == "pedestrian"
    assert area_kind({"landuse": "residential"}) is None


def test_areas_lie_below_every_road_and_in_order() -> None:
    lifts = [area_lift(k) for k in AREA_COLORS]
    assert max(lifts) < class_lift(CLASS_ORDER[0]) and min(lifts) > 0
    assert area_lift("water") > area_lift("park") > area_lift("farmland")


def test_mesh_keeps_holes_and_colours_by_kind() -> None:
    park = Polygon([(0, 0), (100, 0), (100, 100), (0, 100)], [[(40, 40), (60, 40), (60, 60), (40, 60)]])
    pond = Polygon([(45, 45), (55, 45), (55, 55), (45, 55)])
    pieces = area_pieces([_area("way/2", "water", pond), _area("way/1", "park", park)])
    assert [a.id for a in pieces.areas] == ["way/1", "way/2"]  # park below the pond
    surface = mesh_areas(pieces)
    # Triangle areas add up to the park without its hole plus the pond.
    p = surface.positions
    a, b, c = p[surface.indices[:, 0]], p[surface.indices[:, 1]], p[surface.indices[:, 2]]
    cross = np.cross(b - a, c - a)
    assert np.all(cross[:, 2] > 0)  # counter-clockwise seen from above
    assert cross[:, 2].sum() / 2 == np.float64(100 * 100 - 20 * 20 + 10 * 10)
