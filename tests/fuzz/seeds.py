"""Seed inputs of the fuzz slice: the real files under tests/fixtures, cut to a size a mutation handles fast."""

from __future__ import annotations

import gzip
import json
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent.parent / "fixtures"
FUZZ = FIXTURES / "fuzz"


def read(relative: str) -> bytes:
    """The bytes of ``tests/fixtures/<relative>``."""
    return (FIXTURES / relative).read_bytes()


@cache
def osm_xml() -> bytes:
    """helsinki_cathedral.osm.pbf written as OSM XML (56 buildings and parts, 5 multipolygons)."""
    import osmium

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "helsinki.osm"
        writer = osmium.SimpleWriter(str(out))
        for obj in osmium.FileProcessor(str(FIXTURES / "osm" / "helsinki_cathedral.osm.pbf")):
            writer.add(obj)
        writer.close()
        return out.read_bytes()


@cache
def osm_gz_head() -> bytes:
    """berlin_siegessaeule.osm.gz, decompressed (the XML a .osm.gz holds)."""
    return gzip.decompress(read("osm/berlin_siegessaeule.osm.gz"))


@cache
def json_doc(relative: str, keep: int | None = None) -> Any:
    """A decoded JSON fixture; ``keep`` cuts a collection (``features`` or ``value``) to its first items."""
    doc = json.loads(read(relative))
    if keep is not None and isinstance(doc, dict):
        for key in ("features", "value"):
            if isinstance(doc.get(key), list):
                doc[key] = doc[key][:keep]
    return doc
