"""Fuzz the OSM readers (XML, .osm.gz, PBF, GeoJSON exports) with mutations of real extracts."""

from __future__ import annotations

import gzip

from hypothesis import given

from . import seeds
from .harness import check_reader
from .mutate import byte_mutation, json_mutation, xml_mutation
from .profiles import fuzz_settings
from .readers import read_all

read_osm = read_all("osm")


@fuzz_settings()
@given(data=xml_mutation(seeds.osm_xml()))
def test_osm_xml_structure(data: bytes) -> None:
    check_reader("osm-xml", read_osm, data, ".osm")


@fuzz_settings()
@given(data=byte_mutation(seeds.osm_xml()))
def test_osm_xml_bytes(data: bytes) -> None:
    check_reader("osm-xml", read_osm, data, ".osm")


@fuzz_settings(0.5)
@given(data=byte_mutation(seeds.read("osm/berlin_siegessaeule.osm.gz")))
def test_osm_gz_bytes(data: bytes) -> None:
    check_reader("osm-gz", read_osm, data, ".osm.gz")


@fuzz_settings(0.5)
@given(data=xml_mutation(seeds.osm_xml()))
def test_osm_gz_of_mutated_xml(data: bytes) -> None:
    check_reader("osm-gz", read_osm, gzip.compress(data, compresslevel=1), ".osm.gz")


@fuzz_settings(2)
@given(data=byte_mutation(seeds.read("osm/helsinki_cathedral.osm.pbf")))
def test_osm_pbf_bytes(data: bytes) -> None:
    check_reader("osm-pbf", read_osm, data, ".osm.pbf")


@fuzz_settings()
@given(data=json_mutation(seeds.json_doc("osm/hamburg_eimsbuettel_cut.geojson", keep=40)))
def test_osm_geojson_structure(data: bytes) -> None:
    check_reader("osm-geojson", read_all("osm-geojson"), data, ".geojson")


@fuzz_settings(0.5)
@given(data=byte_mutation(seeds.read("osm/hamburg_eimsbuettel_cut.geojson")))
def test_osm_geojson_bytes(data: bytes) -> None:
    check_reader("osm-geojson", read_all("osm-geojson"), data, ".geojson")
