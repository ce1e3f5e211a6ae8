"""Fuzz the DEM reader (GeoTIFF and zipped rasters through GDAL) with byte mutations of a real SRTM crop."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from hypothesis import given
from pyproj import Transformer

from twin.context.dem import read_dem

from . import seeds
from .harness import check_reader
from .mutate import byte_mutation
from .profiles import fuzz_settings

CRS = "EPSG:25832"
_X, _Y = Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(11.077, 49.454)
#: 3 km around Nürnberg's old town, inside the crop.
BOUNDS = (_X - 1500.0, _Y - 1500.0, _X + 1500.0, _Y + 1500.0)
TIF = seeds.read("terrain/nuernberg_srtm3_crop.tif")


def read(path: Path) -> object:
    """The DEM under the scene, as a build reads it."""
    return read_dem(path, CRS, BOUNDS)


@fuzz_settings()
@given(data=byte_mutation(TIF))
def test_geotiff_bytes(data: bytes) -> None:
    check_reader("dem-tif", read, data, ".tif")


@fuzz_settings(0.5)
@given(data=byte_mutation(TIF))
def test_zipped_geotiff(data: bytes) -> None:
    # A zip that is not an SRTM .hgt.zip is read through GDAL's /vsizip/.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("inside/dem.tif", data)
    check_reader("dem-zip", read, buffer.getvalue(), ".zip")


@fuzz_settings(0.5)
@given(data=byte_mutation(seeds.FUZZ.joinpath("seeds", "dem.zip").read_bytes()))
def test_zip_bytes(data: bytes) -> None:
    check_reader("dem-zip", read, data, ".zip")
