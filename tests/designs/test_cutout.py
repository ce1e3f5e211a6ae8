"""Sites and cut-outs: exactly the buildings mostly inside a site go."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Polygon, box

from twin.designs.cutout import cut_out, given_site, site_polygon
from twin.designs.georef import place
from twin.designs.load import load_design
from twin.designs.model import Anchor
from twin.errors import DesignError
from twin.records import Building, Surface

from .conftest import FIXTURES

CRS = "EPSG:25832"


def b(bid: str, poly: Polygon, parent: str | None = None) -> Building:
    return Building(bid, "test", CRS, poly, height=10.0, parent=parent)


def test_cut_out_threshold_and_partial() -> None:
    site = box(0, 0, 100, 100)
    buildings = [
        b("inside", box(10, 10, 20, 20)),
        b("mostly", box(90, 10, 110, 20)),  # half inside: exactly the threshold
        b("some", box(95, 30, 115, 40)),  # a quarter inside
        b("outside", box(200, 200, 210, 210)),
        b("touching", box(100, 50, 110, 60)),  # shares an edge only
        b("part", box(12, 12, 14, 14), parent="inside"),
        b("part_of_kept", box(96, 31, 97, 32), parent="some"),
    ]
    cut = cut_out(buildings, site, threshold=0.5)
    assert set(cut.removed) == {"inside", "mostly", "part", "part_of_kept"}
    assert cut.partial == (("some", 0.25),)
    strict = cut_out(buildings, site, threshold=0.9)
    assert set(strict.removed) == {"inside", "part", "part_of_kept"}
    assert dict(strict.partial) == {"mostly": 0.5, "some": 0.25}


def test_cut_out_honours_keep_and_remove() -> None:
    """The planner decides last: a kept building stays (reported with its share), a chosen one goes."""
    site = box(0, 0, 100, 100)
    buildings = [
        b("inside", box(10, 10, 20, 20)),
        b("part", box(12, 12, 14, 14), parent="inside"),
        b("some", box(95, 30, 115, 40)),  # a quarter inside
        b("outside", box(200, 200, 210, 210)),
    ]
    cut = cut_out(buildings, site, keep=["inside"], remove=["some", "outside"])
    assert set(cut.removed) == {"some"}  # outside: the site does not touch it, nothing to remove
    assert dict(cut.partial) == {"inside": 1.0, "part": 1.0}  # a kept parent's parts stay with it
    only_part = cut_out(buildings, site, keep=["part"])
    assert set(only_part.removed) == {"inside"} and dict(only_part.partial) == {"part": 1.0, "some": 0.25}


def test_cut_out_surface_model_without_footprint() -> None:
    ring = np.array([[10.0, 10.0, 0.0], [20.0, 10.0, 0.0], [20.0, 20.0, 0.0], [10.0, 20.0, 0.0]])
    lod2 = Building("gml_1", "citygml", CRS, None, surfaces=(Surface(ring, kind="ground"),))
    assert cut_out([lod2], box(0, 0, 50, 50)).removed == ("gml_1",)
    with pytest.raises(DesignError):
        cut_out([lod2], box(0, 0, 50, 50), threshold=0.0)


def test_site_polygon_from_placed_footprint() -> None:
    design = load_design(FIXTURES / "box.gltf")  # 4 x 3 m footprint from (0, -3) to (4, 0)
    p = place(design, CRS, Anchor(easting=565000.0, northing=5933000.0, crs=CRS, heading=0.0))
    site = site_polygon(design, p, buffer=2.0)
    assert site.area == pytest.approx(8 * 7, rel=0.01)  # (4 + 4) x (3 + 4), mitred corners
    # The convergence rotates the site against the grid by a fraction of a degree.
    minx, _, _, maxy = site.bounds
    assert minx == pytest.approx(565000.0 - 2.0, abs=0.1) and maxy == pytest.approx(5933000.0 + 2.0, abs=0.1)
    neighbours = [
        b("next", box(565003.0, 5932998.0, 565010.0, 5933001.0)),
        b("far", box(565050, 5933050, 565060, 5933060)),
    ]
    cut = cut_out(neighbours, site)
    assert cut.removed == () and cut.partial[0][0] == "next"


def test_given_site_lonlat_or_working() -> None:
    ring_ll = [[10.0, 53.55], [10.001, 53.55], [10.001, 53.551], [10.0, 53.551]]
    site = given_site(ring_ll, CRS)
    assert 566000 < site.bounds[0] < 567000 and 6500 < site.area < 8000  # ~66 m x 111 m
    assert given_site([[0, 0], [300, 0], [300, 200]], CRS, site_crs=CRS).area == pytest.approx(30000)
    with pytest.raises(DesignError):
        given_site([[0, 0], [1, 1]], CRS)
