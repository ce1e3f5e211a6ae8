"""Default heights and roofs by building type, broken OSM ways: on a real Bayreuth extract and made-up XML."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from twin.errors import ManifestError
from twin.read.building_types import BUILTIN, building_type, parse_building_types
from twin.read.osm import read_osm
from twin.read.osmtags import building_attributes
from twin.records import Building, ReaderOptions
from twin.repair import repair_building
from twin.report import Report
from twin.scene import load_scene

BAYREUTH = Path(__file__).parent.parent / "fixtures" / "osm" / "bayreuth_cut.osm.gz"


def read(path: Path, options: ReaderOptions, report: Report) -> dict[str, Building]:
    return {b.id: b for b in read_osm(path, options=options, report=report)}


def test_bayreuth_buildings_without_height_get_their_types_shape() -> None:
    report = Report()
    buildings = read(BAYREUTH, ReaderOptions(), report)
    by_usage: dict[str, set[tuple[float | None, str, float]]] = {}
    for b in buildings.values():
        by_usage.setdefault(b.properties["usage"], set()).add((b.height, b.roof.shape, b.roof.height))
    # Not one of them has a height or levels tag: each type gets its built-in shape.
    assert by_usage["house"] == {(9.0, "gabled", 3.0)}  # 2 storeys of 3 m under a 3 m gabled roof
    assert by_usage["garages"] == {(3.0, "flat", 0.0)}
    assert by_usage["garage"] == {(3.0, "flat", 0.0)}
    assert by_usage["retail"] == {(6.0, "flat", 0.0)}
    assert by_usage["yes"] == {(None, "flat", 0.0)}  # left to the scene's default by the repair stage
    assert report.groups["height_default_by_type"] == {"house": 7, "garages": 5, "garage": 1, "retail": 1}
    assert {b.properties["height_source"] for b in buildings.values() if b.properties["usage"] == "house"} == {"type"}
    assert "height_default_by_type: house 7, garages 5" in report.summary()
    assert report.to_dict()["height_default_by_type"]["house"] == 7


def test_bayreuth_ways_cut_at_the_extracts_edge_are_named() -> None:
    report = Report()
    buildings = read(BAYREUTH, ReaderOptions(), report)
    assert len(buildings) == 25
    cut = ["way/198015830", "way/198015832", "way/198015836", "way/198016347"]
    assert report.skipped == {"cut at the extract's edge": 4}
    assert report.examples["skipped: cut at the extract's edge"] == cut


def write_manifest(tmp_path: Path, table: str) -> Path:
    manifest = tmp_path / "scene.toml"
    manifest.write_text(
        f'id = "bayreuth-types"\n[[sources]]\nname = "osm"\npath = "{BAYREUTH.resolve()}"\n{table}', encoding="utf-8"
    )
    return manifest


def test_manifest_overrides_and_adds_types(tmp_path: Path) -> None:
    table = (
        '[building_types.garages]\nheight = 2.8\nroof_shape = "skillion"\nroof_height = 0.4\n'
        "[building_types.house]\nlevels = 3\n"
        "[building_types.yes]\nheight = 7.5\n"
    )
    scene = load_scene(write_manifest(tmp_path, table))
    report = Report()
    buildings = read(BAYREUTH, scene.sources[0].options, report)
    shapes = {(b.properties["usage"], b.height, b.roof.shape, b.roof.height) for b in buildings.values()}
    assert ("garages", 2.8, "skillion", 0.4) in shapes
    assert ("house", 12.0, "gabled", 3.0) in shapes  # 3 storeys, the built-in roof kept
    assert ("garage", 3.0, "flat", 0.0) in shapes  # not overridden
    assert ("yes", 7.5, "flat", 0.0) in shapes  # a scene may give untyped buildings a type default too
    assert report.groups["height_default_by_type"]["yes"] == 11


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[building_types.garage]\nwidth = 3\n", r"\[building_types.garage\]: unknown key 'width'"),
        ('[building_types.garage]\nroof_shape = "dome"\n', r"\[building_types.garage\]: 'roof_shape' must be one of"),
        ("[building_types.garage]\nheight = -2\n", r"\[building_types.garage\]: 'height' must be a number >= 0"),
        ('[building_types.garage]\nlevels = "two"\n', r"'levels' must be a number"),
        ("[building_types.tower]\nroof_shape = 'flat'\n", r"\[building_types.tower\]: a new type needs"),
        ("[building_types.shed]\nheight = 2.0\nroof_height = 2.5\n", r"'roof_height' must be below 'height'"),
        ("[building_types]\ngarage = 3\n", r"\[building_types.garage\] must be a table"),
    ],
)
def test_bad_building_types_name_the_key(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        load_scene(write_manifest(tmp_path, table))


def test_tags_win_over_the_type() -> None:
    def attrs(tags: dict[str, str]) -> tuple[float | None, str, str]:
        a = building_attributes(tags, "way/1", options=ReaderOptions(), report=Report())
        return a.height, a.roof.shape, a.properties["height_source"]

    assert attrs({"building": "house", "building:levels": "3"}) == (9.0, "flat", "levels")
    assert attrs({"building": "church", "height": "31"}) == (31.0, "flat", "height")
    assert attrs({"building": "house", "roof:shape": "flat"}) == (6.0, "flat", "type")  # walls of 2 storeys
    assert attrs({"building": "yes", "amenity": "place_of_worship"}) == (20.0, "gabled", "type")
    assert attrs({"building": "yes", "shop": "bakery"}) == (6.0, "flat", "type")
    assert building_type({"building:part": "yes", "building": "cathedral"}) == "cathedral"
    assert BUILTIN["cathedral"].roof_height > BUILTIN["house"].roof_height
    assert parse_building_types({}) == BUILTIN


BOWTIE_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
  <node id="1" lat="50.0" lon="11.0"/><node id="2" lat="50.0" lon="11.001"/>
  <node id="3" lat="50.001" lon="11.0"/><node id="4" lat="50.001" lon="11.001"/>
  <node id="5" lat="50.002" lon="11.0"/><node id="6" lat="50.002" lon="11.001"/><node id="7" lat="50.003" lon="11.001"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/><tag k="building" v="house"/></way>
  <way id="11"><nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="5"/><tag k="building" v="garage"/></way>
</osm>
"""


def test_self_intersecting_way_is_repaired_not_skipped(tmp_path: Path) -> None:
    path = tmp_path / "bowtie.osm"
    path.write_text(BOWTIE_XML, encoding="utf-8")
    report = Report()
    buildings = read(path, ReaderOptions(), report)
    assert set(buildings) == {"way/10", "way/11"}
    assert report.repaired == {"self-intersecting way": 1}
    assert not report.skipped
    # Projected and repaired as the build does: both triangles of the bow-tie stay, as one building.
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
    bowtie = buildings["way/10"]
    projected = shapely.transform(bowtie.footprint, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1])))
    repaired = repair_building(replace(bowtie, footprint=projected), ReaderOptions(), report)
    assert repaired is not None and repaired.footprint is not None
    assert repaired.footprint.geom_type == "MultiPolygon" and len(repaired.footprint.geoms) == 2
    assert repaired.footprint.is_valid
    assert report.repaired["invalid polygon made valid"] == 1
