"""Generic footprints: GeoJSON with a crs member and a GDAL-written GeoPackage, both EPSG:25832."""

from __future__ import annotations

import json
import shutil
import sqlite3
import struct
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from twin.errors import CRSError, SourceError, UnsupportedFormat
from twin.read.footprints import clean_footprint, crs_from_name, parse_gpkg_geometry, read_footprints
from twin.records import Building, ReaderOptions
from twin.report import Report

FIXTURES = Path(__file__).parent.parent / "fixtures" / "osm"
GEOJSON = FIXTURES / "hamburg_footprints_25832.geojson"
GPKG = FIXTURES / "hamburg_footprints.gpkg"
OPTIONS = ReaderOptions(height_attribute="hoehe", id_attribute="oid")


def read(path: Path, options: ReaderOptions = OPTIONS, report: Report | None = None) -> dict[str, Building]:
    return {b.id: b for b in read_footprints(path, options=options, report=report if report is not None else Report())}


def test_geojson_footprints() -> None:
    report = Report()
    buildings = read(GEOJSON, report=report)
    assert len(buildings) == 11  # 12 features, one of them a point
    assert {b.crs for b in buildings.values()} == {"EPSG:25832"}
    assert report.skipped == {"no polygonal geometry": 1}
    assert report.examples["skipped: no polygonal geometry"] == ["broken/2"]
    assert report.repaired == {"bad height attribute": 1}  # "unbekannt"
    assert buildings["broken/1"].height is None
    assert buildings["broken/1"].properties["height_source"] == "default"

    b = buildings["way/145693816"]
    assert b.height == 17.5
    assert b.properties == {"height_source": "height"}
    assert 562_000 < b.footprint.centroid.x < 563_000  # type: ignore[union-attr]
    assert b.footprint.area == pytest.approx(340, abs=1)  # type: ignore[union-attr]
    # Text heights with a decimal comma and a unit, and names.
    lack = buildings["way/79311917"]
    assert lack.height == 3.0
    assert lack.properties["name"] == "Autolackiererei Magnussen"
    assert len(buildings["relation/3602122"].footprint.interiors) == 3  # type: ignore[union-attr]
    assert buildings["way/32872669"].footprint.geom_type == "MultiPolygon"  # type: ignore[union-attr]
    assert buildings["way/554652356"].height is None  # "hoehe": null


def test_geopackage_footprints_match_geojson() -> None:
    from_gpkg, from_json = read(GPKG), read(GEOJSON)
    assert len(from_gpkg) == 10
    assert {b.crs for b in from_gpkg.values()} == {"EPSG:25832"}
    for key, b in from_gpkg.items():
        other = from_json[key]
        assert b.footprint.equals(other.footprint), key  # type: ignore[union-attr]
        assert b.height == other.height
    assert from_gpkg["relation/3602122"].properties["name"] == "Hamburg-Haus Eimsbüttel"


def test_ids_without_id_attribute() -> None:
    options = ReaderOptions(height_attribute="hoehe")
    # GeoPackage fid / feature index (the GeoJSON features have no "id"), prefixed by the source name.
    assert sorted(read(GPKG, options)) == sorted(f"hamburg_footprints.gpkg/{i}" for i in range(1, 11))
    assert "hamburg_footprints_25832.geojson/0" in read(GEOJSON, options)
    named = read_footprints(GPKG, options=options, report=Report(), source="alkis")
    assert next(iter(named)).id == "alkis/1"


def test_without_height_attribute_all_heights_default() -> None:
    buildings = read(GEOJSON, ReaderOptions())
    assert all(b.height is None for b in buildings.values())
    assert {b.properties["height_source"] for b in buildings.values()} == {"default"}


def test_crs_override() -> None:
    options = ReaderOptions(height_attribute="hoehe", crs="EPSG:5555")
    assert {b.crs for b in read(GPKG, options).values()} == {"EPSG:5555"}
    assert {b.crs for b in read(GEOJSON, options).values()} == {"EPSG:5555"}


def test_geojson_without_crs_member_is_wgs84(tmp_path: Path) -> None:
    path = tmp_path / "plain.geojson"
    feature = {
        "type": "Feature",
        "id": 7,
        "properties": {"h": 12},
        "geometry": box(9, 53, 9.001, 53.001).__geo_interface__,
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    (b,) = read_footprints(path, options=ReaderOptions(height_attribute="h"), report=Report())
    assert (b.id, b.crs, b.height) == ("plain.geojson/7", "EPSG:4326", 12.0)


@pytest.mark.parametrize(
    ("name", "crs"),
    [
        ("urn:ogc:def:crs:EPSG::25832", "EPSG:25832"),
        ("urn:ogc:def:crs:EPSG:6.6:4326", "EPSG:4326"),
        ("EPSG:3857", "EPSG:3857"),
        ("urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326"),
        ("something else", "something else"),
    ],
)
def test_crs_from_name(name: str, crs: str) -> None:
    assert crs_from_name(name) == crs


def test_parse_gpkg_geometry_envelopes() -> None:
    polygon = box(0, 0, 2, 1)
    wkb = shapely.to_wkb(polygon)
    plain = b"GP\x00\x01" + struct.pack("<i", 25832) + wkb  # flags: little endian, no envelope
    assert parse_gpkg_geometry(plain).equals(polygon)
    with_envelope = b"GP\x00\x03" + struct.pack("<i", 25832) + struct.pack("<4d", 0, 2, 0, 1) + wkb
    assert parse_gpkg_geometry(with_envelope).equals(polygon)
    assert parse_gpkg_geometry(b"GP\x00\x11" + struct.pack("<i", 0)) is None  # empty flag
    with pytest.raises(ValueError):
        parse_gpkg_geometry(b"XX\x00\x01" + b"\x00" * 4 + wkb)


def test_clean_footprint() -> None:
    square = box(0, 0, 1, 1)
    assert clean_footprint(square) == (square, "")
    assert clean_footprint(Point(0, 0)) == (None, "no polygonal geometry")
    sliver = Polygon([(0, 0), (1, 1), (0, 0), (1, 1)])
    assert clean_footprint(sliver) == (None, "fewer than 3 distinct points")
    kept, _ = clean_footprint(shapely.MultiPolygon([square, sliver]))
    assert kept is not None and kept.equals(square)
    flat, _ = clean_footprint(shapely.force_3d(square, 5.0))
    assert flat is not None and not flat.has_z


def test_broken_files(tmp_path: Path) -> None:
    cut = tmp_path / "cut.geojson"
    cut.write_bytes(GEOJSON.read_bytes()[:3000])
    with pytest.raises(SourceError, match=r"cut\.geojson"):
        list(read_footprints(cut, options=OPTIONS, report=Report()))
    not_gpkg = tmp_path / "text.gpkg"
    not_gpkg.write_text("hello")
    with pytest.raises(SourceError, match=r"text\.gpkg"):
        list(read_footprints(not_gpkg, options=OPTIONS, report=Report()))
    truncated = tmp_path / "half.gpkg"
    truncated.write_bytes(GPKG.read_bytes()[:20_000])
    with pytest.raises(SourceError, match=r"half\.gpkg"):
        list(read_footprints(truncated, options=OPTIONS, report=Report()))
    with pytest.raises(UnsupportedFormat, match="shp"):
        shp = tmp_path / "x.shp"
        shp.write_bytes(b"")
        list(read_footprints(shp, options=OPTIONS, report=Report()))
    with pytest.raises(SourceError, match=r"missing\.gpkg"):
        list(read_footprints(tmp_path / "missing.gpkg", options=OPTIONS, report=Report()))


def test_gpkg_undefined_crs_needs_override(tmp_path: Path) -> None:
    path = tmp_path / "nocrs.gpkg"
    shutil.copyfile(GPKG, path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE gpkg_geometry_columns SET srs_id = -1")
    with pytest.raises(CRSError, match=r"nocrs\.gpkg"):
        list(read_footprints(path, options=OPTIONS, report=Report()))
    options = ReaderOptions(height_attribute="hoehe", crs="EPSG:25832")
    assert len(list(read_footprints(path, options=options, report=Report()))) == 10
