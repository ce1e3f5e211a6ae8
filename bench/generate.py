"""Synthetic LoD1 cities for benchmarks: rotated rectangular footprints with heights, as a GeoPackage.

Buildings sit in blocks along a street grid in EPSG:25832 (around Hamburg), 8–30 m wide, 6–40 m tall, with
ids and a levels attribute: the kind of data an official LoD1 footprint layer holds. Deterministic (seeded).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import shapely


def footprints(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n footprints (shapely polygons), heights (m) and levels, on a grid with 40 m plots."""
    rng = np.random.default_rng(seed)
    side = math.ceil(math.sqrt(n))
    i = np.arange(n)
    gx, gy = i % side, i // side
    # 40 m plots, with a 20 m street after every fifth row and column.
    x0 = 563_000.0 + gx * 40.0 + (gx // 5) * 20.0
    y0 = 5_930_000.0 + gy * 40.0 + (gy // 5) * 20.0
    w = rng.uniform(8, 30, n)
    d = rng.uniform(8, 20, n)
    angle = rng.normal(0, 0.15, n)
    cx, cy = x0 + 20 + rng.uniform(-3, 3, n), y0 + 20 + rng.uniform(-3, 3, n)
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]], float) / 2
    ca, sa = np.cos(angle), np.sin(angle)
    px = cx[:, None] + corners[None, :, 0] * w[:, None] * ca[:, None] - corners[None, :, 1] * d[:, None] * sa[:, None]
    py = cy[:, None] + corners[None, :, 0] * w[:, None] * sa[:, None] + corners[None, :, 1] * d[:, None] * ca[:, None]
    rings = shapely.linearrings(np.stack([px, py], axis=-1))
    polys = shapely.polygons(rings)
    levels = rng.integers(2, 13, n)
    heights = levels * 3.0 + rng.uniform(0, 1.5, n)
    return polys, heights, levels


def write_gpkg(path: Path, n: int, seed: int = 7) -> Path:
    """Write n synthetic buildings to a GeoPackage (layer ``buildings``, attributes id, hoehe, levels)."""
    import pyogrio

    polys, heights, levels = footprints(n, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    chunk = 200_000
    for start in range(0, n, chunk):
        sl = slice(start, min(start + chunk, n))
        pyogrio.raw.write(
            str(path),
            geometry=shapely.to_wkb(polys[sl]),
            field_data=[
                np.array([f"gen/{k}" for k in range(sl.start, sl.stop)], dtype=object),
                heights[sl].astype(np.float64),
                levels[sl].astype(np.int32),
            ],
            fields=["id", "hoehe", "levels"],
            layer="buildings",
            driver="GPKG",
            geometry_type="Polygon",
            crs="EPSG:25832",
            append=start > 0,
        )
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("n", type=int)
    ap.add_argument("out", type=Path)
    args = ap.parse_args()
    write_gpkg(args.out, args.n)


if __name__ == "__main__":
    main()
