"""Reading DEMs: heights match the file, .hgt.zip and GeoTIFF agree, voids are filled, bad input is named."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from twin.context.dem import read_dem
from twin.context.terrain import working_offset
from twin.crs import transform_xy, transformer
from twin.errors import SourceError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "terrain"
CROP = FIXTURES / "nuernberg_srtm3_crop.tif"
CRS = "EPSG:25832"


def _bounds(lon: float, lat: float, half: float) -> tuple[float, float, float, float]:
    x, y = transformer("EPSG:4326", CRS).transform(lon, lat)
    return x - half, y - half, x + half, y + half


#: 3 km around Nürnberg's old town, inside the crop.
BOUNDS = _bounds(11.077, 49.454, 1500.0)


def _bilinear_from_file(path: Path, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Heights of the file at lon/lat by bilinear interpolation between its pixel centres (no GDAL warp)."""
    with rasterio.open(path) as ds:
        data = ds.read(1).astype(np.float64)
        t = ds.transform
    col, row = (lon - t.c) / t.a - 0.5, (lat - t.f) / t.e - 0.5
    c0, r0 = np.floor(col).astype(int), np.floor(row).astype(int)
    fc, fr = col - c0, row - r0
    top = data[r0, c0] * (1 - fc) + data[r0, c0 + 1] * fc
    bottom = data[r0 + 1, c0] * (1 - fc) + data[r0 + 1, c0 + 1] * fc
    out: np.ndarray = top * (1 - fr) + bottom * fr
    return out


def test_heights_match_the_file() -> None:
    window = read_dem(CROP, CRS, BOUNDS)
    grid = window.grid
    rows, cols = grid.shape
    assert rows == cols == 51  # 3 km at 60 m
    minx, miny, maxx, maxy = grid.bounds
    assert minx <= BOUNDS[0] and miny <= BOUNDS[1] and maxx >= BOUNDS[2] and maxy >= BOUNDS[3]
    # SRTM3 at 49.45° N: 3" is about 60 m east-west, 93 m north-south; the grid takes the finer one.
    assert window.native_step == pytest.approx(60.3, abs=0.5)
    assert grid.step == pytest.approx(window.native_step)
    assert window.filled == 0.0
    rng = np.random.default_rng(1)
    r, c = rng.integers(0, rows, 300), rng.integers(0, cols, 300)
    x, y = grid.post_xy(r, c)
    lon, lat = transform_xy(transformer(CRS, "EPSG:4326"), x, y)
    expected = _bilinear_from_file(CROP, lon, lat)
    assert np.abs(grid.heights[r, c] - expected).max() < 0.05
    # And nearest samples (rasterio's own ``sample``) are never further off than the local relief allows.
    with rasterio.open(CROP) as ds:
        nearest = np.array([v[0] for v in ds.sample(zip(lon, lat, strict=True))], dtype=np.float64)
    assert np.abs(grid.heights[r, c] - nearest).max() < 15.0
    assert 280 < grid.heights.min() < grid.heights.max() < 451


def _hgt_zip(tmp_path: Path) -> Path:
    """A real N49E011.hgt.zip holding the crop's heights at their place in the tile (voids elsewhere)."""
    with rasterio.open(CROP) as ds:
        data = ds.read(1)
        # Pixel (0, 0) of the SRTM tile is centred on 50° N, 11° E.
        col0 = round((ds.transform.c + ds.transform.a / 2 - 11.0) / ds.transform.a)
        row0 = round((50.0 - (ds.transform.f + ds.transform.e / 2)) / -ds.transform.e)
    tile = np.full((1201, 1201), -32768, dtype=">i2")
    tile[row0 : row0 + data.shape[0], col0 : col0 + data.shape[1]] = data
    path = tmp_path / "N49E011.hgt.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("N49E011.hgt", tile.tobytes())
    return path


def test_hgt_zip_reads_like_the_geotiff(tmp_path: Path) -> None:
    tif = read_dem(CROP, CRS, BOUNDS).grid
    hgt = read_dem(_hgt_zip(tmp_path), CRS, BOUNDS).grid
    assert (hgt.x0, hgt.y0, hgt.step) == pytest.approx((tif.x0, tif.y0, tif.step))
    assert np.abs(hgt.heights - tif.heights).max() < 1e-6


def test_other_crs_and_a_zipped_geotiff(tmp_path: Path) -> None:
    path = tmp_path / "dem.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.write(CROP, "inside/nuernberg.tif")
    utm33 = read_dem(path, "EPSG:25833", _utm33(BOUNDS)).grid
    assert utm33.crs == "EPSG:25833"
    assert 280 < utm33.heights.min() < utm33.heights.max() < 451


def _utm33(bounds: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x, y = transform_xy(transformer(CRS, "EPSG:25833"), np.array(bounds[::2]), np.array(bounds[1::2]))
    return float(x.min()), float(y.min()), float(x.max()), float(y.max())


def test_voids_are_filled_from_their_neighbours(tmp_path: Path) -> None:
    with rasterio.open(CROP) as ds:
        profile, data = ds.profile, ds.read(1)
    holed = data.copy()
    holed[100:106, 90:96] = -32768  # a 6 x 6 void near the old town
    path = tmp_path / "holed.tif"
    with rasterio.open(path, "w", **profile) as out:
        out.write(holed, 1)
    full, filled = read_dem(CROP, CRS, BOUNDS).grid, read_dem(path, CRS, BOUNDS).grid
    assert np.isfinite(filled.heights).all()
    changed = np.abs(filled.heights - full.heights) > 1e-6
    assert changed.any()
    # Filled heights stay within the heights around the void.
    ring = data[97:109, 87:99]
    assert ring.min() - 1 <= filled.heights[changed].min() and filled.heights[changed].max() <= ring.max() + 1


def test_bad_dems_are_named(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        read_dem(tmp_path / "missing.tif", CRS, BOUNDS)
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"not a raster")
    with pytest.raises(SourceError, match=r"junk\.tif"):
        read_dem(junk, CRS, BOUNDS)
    with pytest.raises(SourceError, match="cover"):
        read_dem(CROP, CRS, _bounds(9.95, 53.57, 1000.0))  # Hamburg, far from the crop
    nocrs = tmp_path / "nocrs.tif"
    with rasterio.open(
        nocrs, "w", driver="GTiff", width=4, height=4, count=1, dtype="int16", transform=from_origin(0, 4, 1, 1)
    ) as out:
        out.write(np.zeros((1, 4, 4), dtype=np.int16))
    with pytest.raises(SourceError, match="coordinate reference system"):
        read_dem(nocrs, CRS, BOUNDS)


def test_vertical_datum() -> None:
    # Working z = 0 is the ellipsoidal height z0; a normal height H is H + N above the ellipsoid.
    assert working_offset("normal", geoid_undulation=47.6, z0_height=47.6) == 0.0
    assert working_offset("normal", geoid_undulation=47.6, z0_height=400.0) == pytest.approx(-352.4)
    assert working_offset("ellipsoidal", geoid_undulation=47.6, z0_height=400.0) == -400.0
