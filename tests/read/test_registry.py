"""The source-kind registry: sniffing by suffix and content, lazy readers, unknown kinds refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from twin.errors import UnsupportedFormat
from twin.read import registry
from twin.read.footprints import read_footprints
from twin.read.osm import read_osm


def test_every_kind_has_a_reader() -> None:
    assert registry.FORMATS == ("osm", "osm-geojson", "citygml", "footprints")
    for kind in registry.KINDS.values():
        assert callable(kind.load())
    assert registry.reader_for("osm") is read_osm
    with pytest.raises(UnsupportedFormat, match="unknown source format 'shp'"):
        registry.reader_for("shp")


def test_sniff_by_suffix_then_content(tmp_path: Path) -> None:
    osm_export = tmp_path / "export.geojson"
    osm_export.write_text(json.dumps({"type": "FeatureCollection", "features": [{"id": "way/12"}]}))
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    assert registry.sniff_format(osm_export) == "osm-geojson"
    assert registry.sniff_format(plain) == "footprints"
    assert registry.sniff_format(tmp_path / "city.osm.pbf") == "osm"  # decided by name alone, never opened
    assert registry.sniff_format(tmp_path / "LoD2.GML") == "citygml"
    assert registry.sniff_format(tmp_path / "a.gpkg") == "footprints"
    with pytest.raises(UnsupportedFormat, match="unknown source format"):
        registry.sniff_format(tmp_path / "a.shp")


def test_read_source_streams_through_the_registered_reader(tmp_path: Path) -> None:
    from twin.records import ReaderOptions
    from twin.report import Report
    from twin.scene import SourceSpec

    path = tmp_path / "one.geojson"
    square = [[[10.0, 53.0], [10.0001, 53.0], [10.0001, 53.0001], [10.0, 53.0001], [10.0, 53.0]]]
    feature = {
        "type": "Feature",
        "id": 1,
        "properties": {"height": 7},
        "geometry": {"type": "Polygon", "coordinates": square},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    options = ReaderOptions(height_attribute="height")
    source = SourceSpec("fp", path, registry.sniff_format(path), options)
    got = list(registry.read_source(source, Report()))
    want = list(read_footprints(path, options=options, report=Report(), source="fp"))
    assert [b.id for b in got] == [b.id for b in want] and got[0].height == 7.0
