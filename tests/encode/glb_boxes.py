"""Synthetic box buildings for encoder tests and size measurements (geometry built in code)."""

from __future__ import annotations

import numpy as np

from twin.encode import MeshBatch, PropertyTable, building_table

# A unit cube's six faces: (normal, four corners counter-clockwise seen from outside).
_FACES = [
    ((0, 0, 1), [(0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)]),
    ((0, 0, -1), [(0, 0, 0), (0, 1, 0), (1, 1, 0), (1, 0, 0)]),
    ((1, 0, 0), [(1, 0, 0), (1, 1, 0), (1, 1, 1), (1, 0, 1)]),
    ((-1, 0, 0), [(0, 0, 0), (0, 0, 1), (0, 1, 1), (0, 1, 0)]),
    ((0, 1, 0), [(0, 1, 0), (0, 1, 1), (1, 1, 1), (1, 1, 0)]),
    ((0, -1, 0), [(0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1)]),
]
_CORNERS = np.array([c for _, cs in _FACES for c in cs], dtype=np.float64)  # (24, 3)
_NORMALS = np.repeat(np.array([n for n, _ in _FACES], dtype=np.float64), 4, axis=0)  # (24, 3)
_TRIS = np.array([[4 * f, 4 * f + 1, 4 * f + 2] for f in range(6)] + [[4 * f, 4 * f + 2, 4 * f + 3] for f in range(6)])
ROOF_SRGB, WALL_SRGB = (150, 80, 70), (225, 220, 210)


def box_tile(
    count: int, *, extent: float = 400.0, seed: int = 1, colors: bool = True
) -> tuple[MeshBatch, PropertyTable]:
    """``count`` random boxes (24 vertices, 12 triangles each) within ``extent`` metres, plus their table.

    Boxes are placed on a jittered grid so they do not overlap, 8–20 m wide and 4–30 m high.
    """
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(count)))
    cell = extent / side
    ij = np.stack(np.divmod(np.arange(count), side), axis=1).astype(np.float64)
    size = np.column_stack([rng.uniform(8, 20, count), rng.uniform(8, 20, count), rng.uniform(4, 30, count)])
    size[:, :2] = np.minimum(size[:, :2], cell * 0.9)
    origin = np.column_stack([ij * cell - extent / 2, np.zeros(count)])
    positions = (_CORNERS[None] * size[:, None] + origin[:, None]).reshape(-1, 3)
    normals = np.tile(_NORMALS, (count, 1))
    indices = (_TRIS[None] + 24 * np.arange(count)[:, None, None]).reshape(-1, 3)
    feature_ids = np.repeat(np.arange(count), 24)
    rgb = np.where((normals[:, 2] > 0.5)[:, None], ROOF_SRGB, WALL_SRGB).astype(np.uint8)
    batch = MeshBatch(positions, normals, indices, feature_ids, rgb if colors else None)
    streets = ["Hauptstraße", "Eppendorfer Weg", "Gärtnerstraße", "Hoheluftchaussee", "Bismarckstraße"]
    usages = ["residential", "apartments", "house", "commercial", "yes"]
    roofs = ["flat", "gabled", "hipped"]
    rows = [
        {
            "id": f"way/{100_000_000 + 7919 * i}",
            "source": "osm",
            "height": float(round(size[i, 2], 1)),
            "levels": int(size[i, 2] // 3) if i % 5 else None,
            "roof_shape": roofs[i % 3],
            "address": f"{streets[i % 5]} {1 + i % 97}" if i % 3 else None,
            "usage": usages[i % 5],
            "year": str(1880 + i % 140) if i % 4 == 0 else None,
        }
        for i in range(count)
    ]
    return batch, building_table(rows)
