"""Fuzz the CityGML reader (1.0, 2.0, 3.0) with XML-aware and byte mutations of real city models."""

from __future__ import annotations

import pytest
from hypothesis import given

from . import seeds
from .harness import check_reader
from .mutate import byte_mutation, xml_mutation
from .profiles import fuzz_settings
from .readers import read_all

SEEDS = (
    "citygml/sig3d_building_and_garage_LOD2_citygml2.gml",
    "citygml/sig3d_building_and_garage_LOD2_citygml3.gml",
    "citygml/sig3d_building_LOD3_citygml2.gml",
    "citygml/nrw_LoD2_32_364_5650_subset.gml",
    "citygml/berlin_mitte_subset.gml",
)
read_citygml = read_all("citygml")


@pytest.mark.parametrize("seed", SEEDS)
def test_citygml_structure(seed: str) -> None:
    @fuzz_settings(0.7)
    @given(data=xml_mutation(seeds.read(seed)))
    def fuzz(data: bytes) -> None:
        check_reader("citygml", read_citygml, data, ".gml")

    fuzz()


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_citygml_bytes(seed: str) -> None:
    @fuzz_settings(0.5)
    @given(data=byte_mutation(seeds.read(seed)))
    def fuzz(data: bytes) -> None:
        check_reader("citygml", read_citygml, data, ".gml")

    fuzz()
