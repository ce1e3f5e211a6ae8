"""OSM readers on real extracts: XML (.osm.gz), PBF, and a JOSM GeoJSON export."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import osmium
import pytest
from shapely.geometry import Polygon, box

from twin.errors import SourceError
from twin.read.osm import read_osm, resolve_parts
from twin.read.osm_geojson import read_osm_geojson
from twin.records import Building, ReaderOptions
from twin.report import Report

FIXTURES = Path(__file__).parent.parent / "fixtures" / "osm"
HELSINKI = FIXTURES / "helsinki_cathedral.osm.pbf"
BERLIN = FIXTURES / "berlin_siegessaeule.osm.gz"
HAMBURG = FIXTURES / "hamburg_eimsbuettel_cut.geojson"
OPTIONS = ReaderOptions()


def read(path: Path, report: Report | None = None) -> dict[str, Building]:
    reader = read_osm_geojson if path.suffix == ".geojson" else read_osm
    buildings = list(reader(path, options=OPTIONS, report=report if report is not None else Report()))
    by_id = {b.id: b for b in buildings}
    assert len(by_id) == len(buildings), "ids must be unique"
    return by_id


# --- PBF: Helsinki, around the cathedral ------------------------------------------------------------


def test_helsinki_pbf_counts() -> None:
    report = Report()
    buildings = read(HELSINKI, report)
    # 56 building and building:part areas in the cut; 8 outlines are drawn by their parts instead.
    assert len(buildings) == 48
    assert report.counts["outline_replaced_by_parts"] == 8
    assert sum(b.parent is not None for b in buildings.values()) == 21
    # Highways in the file are not buildings: ignored, not skipped.
    assert not report.skipped
    assert all(b.crs == "EPSG:4326" and b.source == HELSINKI.name for b in buildings.values())
    assert all(24.94 < b.footprint.centroid.x < 24.96 for b in buildings.values())  # type: ignore[union-attr]


def test_helsinki_cathedral_is_drawn_by_its_parts() -> None:
    buildings = read(HELSINKI)
    assert "way/419479428" not in buildings  # the cathedral's outline
    dome = buildings["way/234870674"]  # the main dome: height=38, roof:shape=dome
    assert dome.parent == "way/419479428"
    assert dome.height == 38.0
    assert dome.roof.shape == "flat"
    assert dome.properties["roof_shape_tag"] == "dome"
    assert dome.properties["height_source"] == "height"
    # Inherited from the outline, which carries the address and name.
    assert dome.properties["name"] == "Helsingin tuomiokirkko"
    assert dome.properties["address"] == "Unioninkatu 29, 00170 Helsinki"
    gold = buildings["way/419479426"]  # a gilded top: min_height=37, height=41
    assert (gold.base, gold.height) == (37.0, 41.0)
    parts = [b for b in buildings.values() if b.parent == "way/419479428"]
    assert len(parts) == 13


def test_helsinki_gabled_parts_with_roof_height_and_orientation() -> None:
    buildings = read(HELSINKI)
    b = buildings["way/458109763"]  # height=12, roof:height=4, roof:orientation=across
    assert b.height == 12.0
    assert (b.roof.shape, b.roof.height, b.roof.orientation) == ("gabled", 4.0, "across")
    b = buildings["way/458107403"]  # height=12, roof:height=2, building:levels=3, along
    assert (b.roof.shape, b.roof.height, b.roof.orientation) == ("gabled", 2.0, "along")
    assert b.properties["levels"] == 3


def test_helsinki_multipolygon_relations() -> None:
    buildings = read(HELSINKI)
    relations = sorted(i for i in buildings if i.startswith("relation/"))
    assert relations == ["relation/1332050", "relation/1688743", "relation/6065", "relation/6066"]
    archive = buildings["relation/6065"]
    assert archive.footprint.geom_type == "Polygon"  # type: ignore[union-attr]
    assert len(archive.footprint.interiors) == 2  # type: ignore[union-attr]
    assert archive.properties["address"] == "Unioninkatu 33b, Helsinki"
    # A multipolygon outline (the university main building) replaced by its parts; the part takes the
    # outline's relation id as parent and min_level/levels as base/height.
    assert "relation/1320784" not in buildings
    part = buildings["way/89541313"]
    assert part.parent == "relation/1320784"
    assert (part.base, part.height) == (6.0, 12.0)
    assert part.properties["usage"] == "university"
    # A multipolygon building:part with a parent way.
    assert buildings["relation/1332050"].parent == "way/87318458"


def test_xml_and_pbf_give_the_same_buildings(tmp_path: Path) -> None:
    xml = tmp_path / "helsinki.osm"
    with osmium.SimpleWriter(str(xml)) as writer:
        for obj in osmium.FileProcessor(str(HELSINKI)):
            writer.add(obj)
    from_pbf, from_xml = read(HELSINKI), read(xml)
    assert from_pbf.keys() == from_xml.keys()
    for key, b in from_pbf.items():
        assert b.footprint.equals(from_xml[key].footprint)  # type: ignore[union-attr]
        assert (b.height, b.base, b.roof, b.parent) == (
            from_xml[key].height,
            from_xml[key].base,
            from_xml[key].roof,
            from_xml[key].parent,
        )


# --- XML: Berlin, the Victory Column ------------------------------------------------------------------


def test_berlin_victory_column_parts() -> None:
    report = Report()
    buildings = read(BERLIN, report)
    assert len(buildings) == 122  # 5 buildings + 118 parts - 1 outline drawn by its parts
    assert report.counts["outline_replaced_by_parts"] == 1
    assert "way/56226088" not in buildings  # the plinth outline, height=9.2 min_height=1.8
    parts = [b for b in buildings.values() if b.parent == "way/56226088"]
    assert len(parts) == 118
    top = buildings["way/103812715"]  # the dome on top: min_height=55, height=58.59, roof:shape=dome
    assert (top.base, top.height) == (55.0, 58.59)
    assert top.properties["roof_shape_tag"] == "dome"
    assert top.properties["address"] == "Großer Stern 1, 10557 Berlin"
    assert all(b.base < b.height for b in parts if b.height is not None)


def test_berlin_hipped_roofs_without_height() -> None:
    b = read(BERLIN)["way/106952577"]
    assert b.height is None
    assert b.properties["height_source"] == "default"
    assert (b.roof.shape, b.roof.height) == ("hipped", 3.0)


# --- GeoJSON: Hamburg-Eimsbüttel, JOSM export ------------------------------------------------------


def test_hamburg_geojson_counts() -> None:
    report = Report()
    buildings = read(HAMBURG, report)
    # 153 buildings and parts in the cut (and roads, points, landuse, which are ignored).
    assert len(buildings) == 147
    assert report.counts["outline_replaced_by_parts"] == 6
    assert sum(b.parent is not None for b in buildings.values()) == 15
    assert not report.skipped and not report.repaired
    assert Counter(b.properties["height_source"] for b in buildings.values()) == {"levels": 145, "type": 2}


def test_hamburg_known_buildings() -> None:
    buildings = read(HAMBURG)
    b = buildings["way/145693816"]
    assert b.properties["address"] == "Methfesselstraße 46, 20257 Hamburg"
    assert b.properties["levels"] == 5
    assert b.properties["roof_levels"] == 1
    assert b.height == pytest.approx(5 * 3.0 + 2.5)
    assert b.properties["roof_shape_tag"] == "saltbox"
    haus = buildings["relation/3602122"]
    assert haus.properties["name"] == "Hamburg-Haus Eimsbüttel"
    # The house name equals the name tag, so the address does not repeat it.
    assert haus.properties["address"] == "Doormannsweg 12, 20259 Hamburg"
    assert haus.properties["year"] == "1965"
    assert len(haus.footprint.interiors) == 3  # type: ignore[union-attr]
    assert len(buildings["relation/7921248"].footprint.interiors) == 1  # type: ignore[union-attr]
    assert buildings["way/32872669"].footprint.geom_type == "MultiPolygon"  # type: ignore[union-attr]


def test_hamburg_parts_replace_outline() -> None:
    buildings = read(HAMBURG)
    assert "way/37800418" not in buildings
    parts = [b for b in buildings.values() if b.parent == "way/37800418"]
    assert len(parts) == 7


# --- broken input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", [HELSINKI, BERLIN])
def test_truncated_osm_file_raises_source_error(tmp_path: Path, fixture: Path) -> None:
    broken = tmp_path / fixture.name
    data = fixture.read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match=re.escape(str(broken))):
        list(read_osm(broken, options=OPTIONS, report=Report()))


def test_truncated_xml_raises_source_error(tmp_path: Path) -> None:
    broken = tmp_path / "cut.osm"
    broken.write_bytes(gzip.decompress(BERLIN.read_bytes())[:50_000])
    with pytest.raises(SourceError, match=r"cut\.osm"):
        list(read_osm(broken, options=OPTIONS, report=Report()))


def test_truncated_geojson_raises_source_error(tmp_path: Path) -> None:
    broken = tmp_path / "cut.geojson"
    broken.write_bytes(HAMBURG.read_bytes()[:10_000])
    with pytest.raises(SourceError, match=r"cut\.geojson"):
        list(read_osm_geojson(broken, options=OPTIONS, report=Report()))


def test_missing_file_raises_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"nothere\.osm\.pbf"):
        list(read_osm(tmp_path / "nothere.osm.pbf", options=OPTIONS, report=Report()))
    with pytest.raises(SourceError, match=r"nothere\.geojson"):
        list(read_osm_geojson(tmp_path / "nothere.geojson", options=OPTIONS, report=Report()))


BROKEN_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
  <node id="1" lat="60.0" lon="25.0"/><node id="2" lat="60.0" lon="25.001"/>
  <node id="3" lat="60.001" lon="25.001"/><node id="4" lat="60.001" lon="25.0"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="building" v="yes"/></way>
  <way id="11"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="highway" v="pedestrian"/><tag k="area" v="yes"/></way>
  <way id="12"><nd ref="1"/><nd ref="2"/><nd ref="99"/><nd ref="1"/><tag k="building" v="yes"/></way>
  <way id="13"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="building" v="yes"/><tag k="height" v="tall"/><tag k="building:levels" v="2"/></way>
  <relation id="20"><member type="way" ref="98" role="outer"/>
    <tag k="type" v="multipolygon"/><tag k="building" v="yes"/></relation>
</osm>
"""


def test_broken_features_are_skipped_into_the_report(tmp_path: Path) -> None:
    path = tmp_path / "broken.osm"
    path.write_text(BROKEN_XML, encoding="utf-8")
    report = Report()
    buildings = read(path, report)
    assert list(buildings) == ["way/13"]
    assert buildings["way/13"].height == 6.0  # the bad height tag is ignored, levels used instead
    assert report.repaired == {"bad height tag": 1}
    assert report.skipped == {"unclosed way": 1, "cut at the extract's edge": 1, "multipolygon not assembled": 1}
    assert report.examples["skipped: unclosed way"] == ["way/10"]
    assert report.examples["skipped: cut at the extract's edge"] == ["way/12"]
    assert report.examples["skipped: multipolygon not assembled"] == ["relation/20"]


# --- building:part resolution on made-up squares ----------------------------------------------------


def square(x: float, y: float, size: float) -> Polygon:
    return box(x, y, x + size, y + size)


def test_resolve_parts_picks_smallest_outline_and_inherits() -> None:
    def b(id_: str, geom: Polygon, **props: object) -> Building:
        return Building(id=id_, source="t", crs="EPSG:3857", footprint=geom, properties=props)

    items = [
        (b("campus", square(0, 0, 100), usage="university", name="Campus"), False),
        (b("hall", square(10, 10, 20), usage="yes", address="Street 1"), False),
        (b("tower", square(12, 12, 5), usage="yes"), True),
        (b("lonely", square(200, 200, 5)), True),
        (b("shed", square(60, 60, 5), usage="shed"), False),
    ]
    report = Report()
    out = {x.id: x for x in resolve_parts(items, report)}
    assert list(out) == ["campus", "tower", "lonely", "shed"]
    assert out["tower"].parent == "hall"  # the smallest outline around it, not the campus
    assert out["tower"].properties == {"usage": "yes", "address": "Street 1"}
    assert out["lonely"].parent is None
    assert report.counts["outline_replaced_by_parts"] == 1


def test_geojson_ids_from_properties(tmp_path: Path) -> None:
    def feature(properties: dict[str, object], **extra: object) -> dict[str, object]:
        geometry = box(9.0, 53.0, 9.0001, 53.0001).__geo_interface__
        return {"type": "Feature", "properties": properties, "geometry": geometry, **extra}

    features = [
        feature({"@id": "way/5", "building": "yes"}),  # osmtogeojson / overpass turbo
        feature({"type": "way", "id": 6, "tags": {"building": "house", "height": "7"}}),  # nested tags
        feature({"building": "yes"}),  # no id at all
        feature({"building": "yes"}, id="relation/8"),
        {"type": "Feature", "properties": {"building": "yes"}, "geometry": {"type": "Point", "coordinates": [9, 53]}},
        feature({"highway": "service"}),
    ]
    path = tmp_path / "export.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    report = Report()
    buildings = read(path, report)
    assert list(buildings) == ["way/5", "way/6", "export.geojson/2", "relation/8"]
    assert buildings["way/6"].height == 7.0
    assert report.skipped == {"no polygonal geometry": 1}


def test_resolve_parts_survives_self_intersecting_rings() -> None:
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    items = [
        (Building(id="outline", source="t", crs="EPSG:3857", footprint=bowtie), False),
        (Building(id="part", source="t", crs="EPSG:3857", footprint=square(7, 3, 2)), True),
        (Building(id="bad part", source="t", crs="EPSG:3857", footprint=bowtie), True),
    ]
    out = {b.id: b for b in resolve_parts(items, Report())}
    assert list(out) == ["part", "bad part"]
    assert out["part"].parent == "outline"
