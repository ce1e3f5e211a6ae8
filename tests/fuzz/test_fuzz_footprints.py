"""Fuzz the footprint reader: GeoJSON (structure and bytes) and GeoPackage (file bytes and geometry blobs)."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from . import seeds
from .harness import check_reader
from .mutate import byte_mutation, json_mutation
from .profiles import fuzz_settings
from .readers import read_all

read_footprints = read_all("footprints", height_attribute="hoehe", id_attribute="oid")
GPKG = seeds.FIXTURES / "osm" / "hamburg_footprints.gpkg"


def _blobs() -> list[bytes]:
    with sqlite3.connect(f"file:{GPKG}?mode=ro", uri=True) as db:
        table, column = db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchone()
        return [bytes(row[0]) for row in db.execute(f'SELECT "{column}" FROM "{table}"')]


BLOBS = _blobs()


@fuzz_settings()
@given(data=json_mutation(seeds.json_doc("osm/hamburg_footprints_25832.geojson")))
def test_geojson_structure(data: bytes) -> None:
    check_reader("footprints-geojson", read_footprints, data, ".geojson")


@fuzz_settings(0.5)
@given(data=byte_mutation(seeds.read("osm/hamburg_footprints_25832.geojson")))
def test_geojson_bytes(data: bytes) -> None:
    check_reader("footprints-geojson", read_footprints, data, ".geojson")


@fuzz_settings(0.5)
@given(data=byte_mutation(GPKG.read_bytes()))
def test_gpkg_bytes(data: bytes) -> None:
    check_reader("footprints-gpkg", read_footprints, data, ".gpkg")


@fuzz_settings()
@given(row=st.integers(0, len(BLOBS) - 1), blob=st.sampled_from(BLOBS).flatmap(byte_mutation))
def test_gpkg_geometry_blobs(row: int, blob: bytes) -> None:
    # The GeoPackage stays a valid database; one row's geometry blob (GP header + WKB) is broken.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.gpkg"
        shutil.copy(GPKG, path)
        with sqlite3.connect(path) as db:
            table, column = db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchone()
            rowid = db.execute(f'SELECT rowid FROM "{table}" LIMIT 1 OFFSET ?', (row,)).fetchone()[0]
            db.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = ?', (blob, rowid))
        data = path.read_bytes()
    check_reader("footprints-gpkg", read_footprints, data, ".gpkg")
