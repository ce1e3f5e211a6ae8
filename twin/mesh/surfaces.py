"""LoD1/LoD2 surface models (CityGML): each planar polygon triangulated as it is."""

from __future__ import annotations

import numpy as np

from ..records import Building
from .model import FLAT_ROOF_COLOR, PITCHED_ROOF_COLOR, WALL_COLOR, Mesh, concatenate
from .triangulate import triangulate_planar


def mesh_surfaces(building: Building) -> Mesh:
    """One flat-shaded mesh of all of a building's surfaces (outward normals as the rings wind)."""
    parts = []
    for surface in building.surfaces:
        verts, tris = triangulate_planar(surface.exterior, surface.holes)
        if not len(tris):
            continue
        a, b, c = verts[tris[:, 0]], verts[tris[:, 1]], verts[tris[:, 2]]
        n = np.cross(b - a, c - a).sum(axis=0)
        n = n / (np.linalg.norm(n) or 1.0)
        if surface.kind == "roof":
            color = FLAT_ROOF_COLOR if abs(n[2]) > 0.98 else PITCHED_ROOF_COLOR
        else:
            color = WALL_COLOR
        parts.append(
            Mesh(
                verts,
                np.tile(n.astype(np.float32), (len(verts), 1)),
                tris,
                np.tile(np.array(color, np.uint8), (len(verts), 1)),
            )
        )
    mesh, _ = concatenate(parts)
    return mesh
