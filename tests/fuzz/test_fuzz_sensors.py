"""Fuzz SensorThings ingest (recorded pages → decode → parse) with JSON mutations of real Hamburg pages.

A source never raises for a bad page or a bad station: problems go into the ingest report. Anything that
escapes :func:`twin.sensors.fetch.read_source` is a finding.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given

from twin.sensors.fetch import read_source
from twin.sensors.parse import Region
from twin.sensors.spec import SensorSourceSpec

from . import seeds
from .harness import check_reader
from .mutate import byte_mutation, json_mutation
from .profiles import fuzz_settings

PAGES = ("sensors/bike_counts.json", "sensors/traffic_status.json", "sensors/ev-charging-stations.json")
HAMBURG = Region(9.7, 53.4, 10.3, 53.7)


def ingest(path: Path) -> object:
    """One recorded page read like a scene's sensors source (with the fallback CRS of metres)."""
    spec = SensorSourceSpec(name="fuzz", pages=(path,), fallback_crs="EPSG:25832")
    return read_source(spec, HAMBURG)


@pytest.mark.parametrize("page", PAGES)
def test_page_structure(page: str) -> None:
    @fuzz_settings()
    @given(data=json_mutation(seeds.json_doc(page, keep=4)))
    def fuzz(data: bytes) -> None:
        check_reader("sensors", ingest, data, ".json")

    fuzz()


@fuzz_settings(0.5)
@given(data=byte_mutation(seeds.read("sensors/traffic_status.json")[:20000]))
def test_page_bytes(data: bytes) -> None:
    check_reader("sensors", ingest, data, ".json")
