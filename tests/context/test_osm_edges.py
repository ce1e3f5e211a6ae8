"""OSM context at the edge of an extract and with broken rings, on a real Helsinki cut (helsinki_edges_cut.osm.gz):
ways cut at the edge keep their inside nodes and are reported with their ids, areas whose ring is cut open and
multipolygons osmium cannot assemble are reported as skipped, and a self-intersecting park is repaired with
make_valid instead of being dropped. The build's report.json carries all of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import LineString

from twin.build import build_scene
from twin.context.context_layer import CUT_AREA, CUT_KEPT, read_context
from twin.context.osmfeatures import REPAIRED_RING, classify, ring_area
from twin.read.osmcontext import CUT_AWAY, UNASSEMBLED, OsmElement, read_osm_context
from twin.report import Report
from twin.scene import parse_scene

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "osm"
EDGES = FIXTURES / "helsinki_edges_cut.osm.gz"
CATHEDRAL = FIXTURES / "helsinki_cathedral.osm.pbf"
CRS = "EPSG:3067"
EVERYWHERE = (-1e7, -1e7, 1e7, 1e7)


@pytest.fixture(scope="module")
def read() -> tuple[Report, dict[str, object]]:
    report = Report()
    context = read_context([EDGES], CRS, EVERYWHERE, report)
    features = {f.id: f for f in [*context.lines, *context.areas, *context.points]}
    return report, features


def test_reader_marks_ways_cut_at_the_edge() -> None:
    report = Report()
    elements = {e.id: e for e in read_osm_context(EDGES, report=report)}
    cut = {i for i, e in elements.items() if e.cut}
    assert {"way/4250285", "way/8035241", "way/8042256"} <= cut
    assert not elements["way/8042613"].cut  # the park has all its nodes (it is broken otherwise)
    # A way with fewer than two nodes inside is left out, with its id.
    assert "way/4253744" not in elements
    assert report.examples[f"skipped: {CUT_AWAY}"] == ["way/4253744"]
    assert report.counts["context_cut_at_edge"] == len(cut) + 1


def test_cut_roads_are_drawn_cut_areas_and_unassembled_relations_reported(read) -> None:  # type: ignore[no-untyped-def]
    report, features = read
    kept = report.examples[f"repaired: {CUT_KEPT}"]
    assert {"way/4250285", "way/8035241"} <= set(kept)
    road = features["way/4250285"]
    assert road.kind == "road" and road.geometry.length > 5  # metres of the street inside
    # A park whose ring lost nodes at the edge is no area any more: skipped, by id.
    assert "way/8042256" in report.examples[f"skipped: {CUT_AREA}"] and "way/8042256" not in features
    assert set(report.examples[f"skipped: {UNASSEMBLED}"]) == {"relation/1320750", "relation/2919185"}


def test_self_intersecting_area_is_repaired_not_dropped(read) -> None:  # type: ignore[no-untyped-def]
    report, features = read
    assert report.examples[f"repaired: {REPAIRED_RING}"] == ["way/8042613"]
    park = features["way/8042613"]
    assert park.kind == "park" and park.geometry.is_valid and park.geometry.area > 100  # m², a real park
    # The ring as read crosses itself; repaired, what it encloses is kept.
    element = next(e for e in read_osm_context(EDGES, report=Report()) if e.id == "way/8042613")
    assert isinstance(element.geometry, LineString) and not element.geometry.is_simple
    assert ring_area(element.geometry) is not None


def test_bridges_are_kept_tunnels_are_not() -> None:
    bridge = next(e for e in read_osm_context(EDGES, report=Report()) if e.id == "way/23952341")
    assert classify(bridge) is not None  # a tram on a bridge: drawn as a deck
    tunnel = OsmElement("way/1", bridge.geometry, {"railway": "tram", "tunnel": "yes", "layer": "-1"})
    assert classify(tunnel) is None


def test_report_json_names_them(tmp_path: Path) -> None:
    scene = parse_scene(
        {
            "id": "helsinki-edges",
            "crs": CRS,
            "sources": [
                {"name": "buildings", "path": str(CATHEDRAL), "format": "osm"},
                {"name": "edges", "path": str(EDGES), "format": "osm"},
            ],
            "context": {"margin": 20000.0, "trees": False},
        },
        FIXTURES,
    )
    build_scene(scene, tmp_path, jobs=1)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["counts"]["context_cut_at_edge"] >= 6
    assert "way/8035241" in report["examples"][f"repaired: {CUT_KEPT}"]
    assert report["examples"][f"repaired: {REPAIRED_RING}"] == ["way/8042613"]
    assert report["skipped"][UNASSEMBLED] == 2
