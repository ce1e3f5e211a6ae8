"""Terrain build time: read a DEM window, mesh its tile pyramid, encode and store the tiles (one process).

    .venv/bin/python -m bench.terrain DEM [--side-km 20] [--tile-cells 64] [--lon 11.35 --lat 49.5]

Prints one line per stage and the layer's figures (tiles, levels, triangles, bytes, errors).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from twin.context.terrain_layer import TerrainSpec, load_terrain, mesh_terrain, write_terrain
from twin.crs import Frame, transformer, utm_crs_for


def main() -> None:
    """Run one terrain build of a square around (lon, lat) and print its stage times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dem", type=Path)
    parser.add_argument("--side-km", type=float, default=20.0)
    parser.add_argument("--tile-cells", type=int, default=64)
    parser.add_argument("--max-error", type=float, default=1.0)
    parser.add_argument("--lon", type=float, default=11.35)
    parser.add_argument("--lat", type=float, default=49.5)
    args = parser.parse_args()
    crs = utm_crs_for(args.lon, args.lat)
    x, y = transformer("EPSG:4326", crs).transform(args.lon, args.lat)
    half = args.side_km * 500.0
    bounds = (x - half, y - half, x + half, y + half)
    spec = TerrainSpec(args.dem.resolve(), margin=0.0, tile_cells=args.tile_cells, max_error=args.max_error)
    t0 = time.perf_counter()
    terrain = load_terrain(spec, crs, bounds, z0_height=0.0, geoid_undulation=0.0)
    t1 = time.perf_counter()
    root, _ = mesh_terrain(terrain.grid, spec)
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        info, _ = write_terrain(root, args.dem.name, Frame.from_bounds(crs, bounds), Path(tmp) / "t", Path(tmp) / "b")
    t3 = time.perf_counter()
    rows, cols = terrain.grid.shape
    print(f"{args.side_km:g} km square, {rows} x {cols} posts at {terrain.grid.step:.1f} m")
    print(f"read {t1 - t0:.2f} s, mesh (Delatin + measured errors + ground surface) {t2 - t1:.2f} s, ", end="")
    print(f"encode + store {t3 - t2:.2f} s, total {t3 - t0:.2f} s")
    print(info)


if __name__ == "__main__":
    main()
