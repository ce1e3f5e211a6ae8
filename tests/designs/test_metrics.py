"""Metrics of designs and their deltas against the buildings they replace."""

from __future__ import annotations

import pytest
from shapely.geometry import box

from twin.designs.georef import place
from twin.designs.load import load_design
from twin.designs.metrics import metrics, metrics_delta
from twin.designs.model import Anchor, Design
from twin.records import Building

from .conftest import FIXTURES


def test_fzk_metrics(fzk: Design) -> None:
    m = metrics(fzk)
    assert m["storeys"] == 2 and m["storeys_source"] == "ifc"
    # BaseQuantities of the two storeys: 119.82 + 121.67 m².
    assert m["gross_floor_area"] == pytest.approx(241.5, abs=0.1) and m["gfa_source"] == "ifc_storeys"
    # 12 x 10 m walls with 0.5 m eaves all round: 13 x 11 m from above.
    assert m["footprint_area"] == pytest.approx(143.0, rel=0.02)
    assert m["height"] == pytest.approx(6.52, abs=0.02)
    # Walls and slabs are not one closed shell: the volume is the space under the roof.
    assert m["volume_source"] == "heightfield"
    assert 0.6 * 143 * 6.5 < m["volume"] < 0.9 * 143 * 6.5


def test_glb_house_metrics(house: Design) -> None:
    m = metrics(house)
    assert m["height"] == pytest.approx(9.0, abs=0.01)
    assert 13 * 7.5 * 0.8 < m["footprint_area"] <= 13.02 * 7.55
    assert m["storeys_source"] == "estimate" and m["gfa_source"] == "estimate"
    assert m["gross_floor_area"] == pytest.approx(m["footprint_area"] * m["storeys"], abs=0.2)


def test_closed_box_volume_and_anchor_scale() -> None:
    design = load_design(FIXTURES / "box.gltf")  # 4 x 3 x 5 m, closed
    m = metrics(design)
    assert m["volume_source"] == "mesh"
    assert m["volume"] == pytest.approx(60.0)
    assert m["footprint_area"] == pytest.approx(12.0)
    placed = place(design, "EPSG:25832", Anchor(lon=10.0, lat=53.55, elevation=2.0, scale=2.0))
    m2 = metrics(design, placed)
    assert m2["volume"] == pytest.approx(480.0) and m2["footprint_area"] == pytest.approx(48.0)
    assert m2["base_z"] == pytest.approx(2.0) and m2["top_z"] == pytest.approx(12.0)


def test_metrics_delta() -> None:
    removed = [
        Building("a", "osm", "EPSG:25832", box(0, 0, 10, 10), height=9.0, properties={"levels": 3}),
        Building("b", "osm", "EPSG:25832", box(20, 0, 25, 4), base=2.0, height=8.0),  # 6 m tall: 2 levels
    ]
    design = {"footprint_area": 150.0, "height": 12.0, "volume": 1500.0, "gross_floor_area": 500.0}
    d = metrics_delta(design, removed)
    assert d["removed"] == {
        "count": 2,
        "footprint_area": 120.0,
        "height": 9.0,
        "volume": 100 * 9 + 20 * 6,
        "gross_floor_area": 100 * 3 + 20 * 2,
    }
    assert d["delta"] == {"footprint_area": 30.0, "height": 3.0, "volume": 480.0, "gross_floor_area": 160.0}
    assert metrics_delta(design, [])["removed"]["count"] == 0
