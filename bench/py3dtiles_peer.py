"""py3dtiles on the same buildings, for the side-by-side throughput ratio.

py3dtiles' building path (``py3dtiles.export``) takes polyhedral surfaces as 3D MultiPolygon WKB (what a
PostGIS table of LoD1 buildings holds) and writes b3dm tiles. We hand it the same footprints, already
extruded into closed blocks (walls, roof and floor), so it does less work than our builder, which reads,
repairs and extrudes the footprints itself.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import shapely


def blocks_wkb(footprints: np.ndarray, heights: np.ndarray) -> list[bytes]:
    """Closed LoD1 blocks as 3D MultiPolygon WKB (one polygon per face)."""
    out = []
    for poly, h in zip(footprints, heights, strict=True):
        ring = np.asarray(shapely.orient_polygons(poly).exterior.coords)[:-1]
        faces = [[(x, y, h) for x, y in ring] + [(ring[0][0], ring[0][1], h)]]
        faces.append([(x, y, 0.0) for x, y in ring[::-1]] + [(ring[-1][0], ring[-1][1], 0.0)])
        for i in range(len(ring)):
            (x0, y0), (x1, y1) = ring[i], ring[(i + 1) % len(ring)]
            faces.append([(x0, y0, 0.0), (x1, y1, 0.0), (x1, y1, h), (x0, y0, h), (x0, y0, 0.0)])
        out.append(shapely.to_wkb(shapely.MultiPolygon([shapely.Polygon(f) for f in faces]), flavor="iso"))
    return out


def main() -> None:
    from py3dtiles.export import wkbs_to_tileset

    from bench.generate import footprints

    n, out = int(sys.argv[1]), Path(sys.argv[2])
    polys, heights, _ = footprints(n)
    # Same placement as ours: coordinates relative to the data's centre, ENU-like.
    centre = np.array(shapely.bounds(shapely.union_all(polys[:1])))[:2]
    polys = shapely.transform(polys, lambda c: c - centre)
    wkbs = blocks_wkb(polys, heights)
    out.mkdir(parents=True, exist_ok=True)
    # Only py3dtiles' own work is timed: preparing its input is not charged to it.
    started = time.perf_counter()
    wkbs_to_tileset(wkbs, [f"gen/{i}" for i in range(n)], np.identity(4, dtype=np.float32).flatten(), out)
    print(json.dumps({"py3dtiles_seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
