"""Zipped DEMs (.hgt.zip, a zipped GeoTIFF) within the decompression limits of twin/read/limits.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from twin.context.dem import dataset_path, read_dem
from twin.read.limits import SourceLimits, SourceTooLarge

FUZZ = Path(__file__).parent.parent / "fixtures" / "fuzz"


@pytest.mark.parametrize("name", ["bomb.hgt.zip", "bomb.zip"])
def test_a_zip_bomb_dem_is_refused_before_gdal_opens_it(tmp_path: Path, name: str) -> None:
    path = tmp_path / name  # 33 kB declaring 33 MiB of heights (the .hgt.zip route and the /vsizip/ route)
    shutil.copy(FUZZ / "bomb.hgt.zip", path)
    with pytest.raises(SourceTooLarge, match=rf"DEM {name.replace('.', '[.]')}: inflates to 34,603,008 bytes"):
        read_dem(path, "EPSG:25832", (650_000.0, 5_480_000.0, 651_000.0, 5_481_000.0))


def test_a_real_zipped_geotiff_is_within_the_limits() -> None:
    seed = FUZZ / "seeds" / "dem.zip"  # the Nürnberg SRTM crop, zipped
    assert dataset_path(seed).startswith("/vsizip/")
    with pytest.raises(SourceTooLarge, match=r"DEM dem\.zip: inflates to 78,341 bytes"):
        dataset_path(seed, SourceLimits(max_inflated_bytes=50_000))  # and a lower limit holds it
