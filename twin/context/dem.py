"""Read a digital elevation model (GeoTIFF, SRTM .hgt / .hgt.zip, any CRS) into a working-CRS height grid.

The only terrain module that does I/O. :func:`read_dem` reads just the window of the file that covers the
scene (rasterio windowed read), fills its voids (GDAL's inverse-distance fill, as SRTM's few voids need) and
resamples it bilinearly onto the post grid :func:`twin.context.terrain.grid_for` lays out in the working
CRS. Heights stay in the file's vertical datum; :func:`twin.context.terrain.working_offset` turns them into
working z.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import rasterio.errors
from rasterio.enums import Resampling
from rasterio.fill import fillnodata
from rasterio.transform import Affine
from rasterio.warp import reproject, transform_bounds
from rasterio.windows import Window, from_bounds

from twin.context.terrain import HeightGrid, grid_for
from twin.crs import parse_crs
from twin.errors import SourceError
from twin.read.limits import SourceLimits, check_zip

#: Metres per degree of latitude (mean), to give a geographic DEM's resolution in metres.
_METRES_PER_DEGREE = 111_320.0
#: Voids are filled from valid posts up to this many posts away; larger holes are an error.
_FILL_DISTANCE = 100
#: A DEM must cover at least this share of the requested area (the rest is filled from its edge).
_MIN_COVERAGE = 0.5


@dataclass(frozen=True)
class DemWindow:
    """What :func:`read_dem` read: the grid and figures for the build report.

    grid : the heights in the working CRS (the file's vertical datum)
    native_step : the file's resolution in metres (its finer axis)
    filled : share of the grid's posts that were voids or outside the file, filled from their neighbours
    """

    grid: HeightGrid
    native_step: float
    filled: float


def dataset_path(path: str | Path, limits: SourceLimits | None = None) -> str:
    """The path GDAL opens: a .zip that is not an SRTM .hgt.zip is read through /vsizip/ (its first raster).

    A zip (``.hgt.zip`` too) whose members declare more than ``limits`` allow (default: the environment's or
    :mod:`twin.read.limits`' defaults) is refused before GDAL opens it.
    """
    p = Path(path)
    if not p.exists():
        raise SourceError(f"DEM {p} does not exist")
    if p.suffix.lower() == ".zip":
        try:
            check_zip(p, limits or SourceLimits.of())
        except SourceError as exc:
            raise type(exc)(f"DEM {exc}") from exc
    if p.suffix.lower() != ".zip" or p.name.lower().endswith(".hgt.zip"):
        return str(p)
    try:
        with zipfile.ZipFile(p) as z:
            names = [n for n in z.namelist() if n.lower().endswith((".tif", ".tiff", ".hgt", ".asc", ".dem"))]
    except zipfile.BadZipFile as exc:
        raise SourceError(f"DEM {p}: not a zip file: {exc}") from exc
    if not names:
        raise SourceError(f"DEM {p}: the zip holds no .tif, .hgt, .asc or .dem")
    return f"/vsizip/{p.resolve()}/{names[0]}"


def read_dem(
    path: str | Path,
    crs: str,
    bounds: tuple[float, float, float, float],
    *,
    step: float | None = None,
) -> DemWindow:
    """The DEM's heights over ``bounds`` (working CRS ``crs``) on a grid of posts (:func:`grid_for`).

    step : post spacing in metres (default: the file's resolution along its finer axis)
    Raises SourceError when the file cannot be read, has no CRS, or covers too little of ``bounds``.
    """
    name = dataset_path(path)
    try:
        with rasterio.open(name) as ds:
            if ds.crs is None:
                raise SourceError(f"DEM {path}: no coordinate reference system")
            native = _resolution_m(ds, bounds, crs)
            fine = step or native
            x0, y0, rows, cols = grid_for(bounds, fine)
            window = _window(ds, (x0, y0 - (rows - 1) * fine, x0 + (cols - 1) * fine, y0), crs)
            band = ds.read(1, window=window, masked=True, boundless=False).astype(np.float64)
            src_transform = ds.window_transform(window)
            src_crs = ds.crs
    except rasterio.errors.RasterioError as exc:
        raise SourceError(f"DEM {path}: {exc}") from exc
    valid = ~np.ma.getmaskarray(band)
    if not valid.any():
        raise SourceError(f"DEM {path}: no valid heights over the scene")
    src = _fill(np.ma.filled(band, np.nan), valid)
    dst = np.full((rows, cols), np.nan)
    # Destination pixel centres are the posts: the pixel grid starts half a step north-west of post (0, 0).
    dst_transform = Affine(fine, 0.0, x0 - fine / 2.0, 0.0, -fine, y0 + fine / 2.0)
    reproject(
        src,
        dst,
        src_transform=src_transform,
        src_crs=src_crs,
        src_nodata=np.nan,
        dst_transform=dst_transform,
        dst_crs=parse_crs(crs).to_wkt(),
        dst_nodata=np.nan,
        resampling=Resampling.bilinear,
    )
    covered = np.isfinite(dst)
    if covered.mean() < _MIN_COVERAGE:
        raise SourceError(f"DEM {path} covers only {covered.mean():.0%} of the scene's terrain extent")
    filled = 1.0 - float(covered.mean())
    heights = _fill(dst, covered) if filled > 0 else dst
    grid = HeightGrid(heights, x0, y0, fine, crs, source=Path(path).name)
    return DemWindow(grid, native, filled)


def _resolution_m(ds: rasterio.DatasetReader, bounds: tuple[float, float, float, float], crs: str) -> float:
    """The dataset's finer resolution in metres at the scene (degrees scaled by the latitude)."""
    rx, ry = abs(ds.res[0]), abs(ds.res[1])
    if ds.crs.is_geographic:
        _, lat0, _, lat1 = transform_bounds(parse_crs(crs).to_wkt(), "EPSG:4326", *bounds)
        lat = math.radians((lat0 + lat1) / 2.0)
        return min(rx * _METRES_PER_DEGREE * math.cos(lat), ry * _METRES_PER_DEGREE)
    return float(min(rx, ry) * (ds.crs.linear_units_factor[1] if ds.crs.linear_units_factor else 1.0))


def _window(ds: rasterio.DatasetReader, bounds: tuple[float, float, float, float], crs: str) -> Window:
    """The file's window covering ``bounds`` (working CRS) plus two pixels, clipped to the file."""
    west, south, east, north = transform_bounds(parse_crs(crs).to_wkt(), ds.crs, *bounds, densify_pts=21)
    win = from_bounds(west, south, east, north, transform=ds.transform)
    col0, row0 = math.floor(win.col_off) - 2, math.floor(win.row_off) - 2
    col1, row1 = math.ceil(win.col_off + win.width) + 2, math.ceil(win.row_off + win.height) + 2
    col0, row0, col1, row1 = max(col0, 0), max(row0, 0), min(col1, ds.width), min(row1, ds.height)
    if col1 - col0 < 2 or row1 - row0 < 2:
        raise SourceError(f"DEM {ds.name} does not cover the scene (bounds {bounds} in {crs})")
    return Window(col0, row0, col1 - col0, row1 - row0)


def _fill(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Voids filled by GDAL's inverse-distance interpolation from the valid posts around them."""
    if valid.all():
        return values
    out = fillnodata(np.where(valid, values, np.nan), mask=valid.astype(np.uint8), max_search_distance=_FILL_DISTANCE)
    out = np.asarray(out, dtype=np.float64)
    if not np.isfinite(out).all():
        raise SourceError(f"DEM voids wider than {_FILL_DISTANCE} posts cannot be filled")
    return out
