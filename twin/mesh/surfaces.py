"""LoD1/LoD2 surface models (CityGML): each planar polygon triangulated as it is."""

from __future__ import annotations

import numpy as np

from ..records import Building
from .model import FLAT_ROOF_COLOR, PITCHED_ROOF_COLOR, WALL_COLOR, Mesh, concatenate
from .triangulate import triangulate_planar

#: A surface whose normal has less than this vertical component is a wall (gets facade coordinates).
WALL_MAX_NZ = 0.2


def _facade_uvs(verts: np.ndarray, normal: np.ndarray, ground: float) -> np.ndarray | None:
    """``u`` metres along a wall surface from its left end, ``v`` metres above ``ground``; None if not a wall."""
    if abs(normal[2]) >= WALL_MAX_NZ:
        return None
    along = np.array([-normal[1], normal[0]])
    along = along / (np.linalg.norm(along) or 1.0)
    u = verts[:, :2] @ along
    return np.column_stack([u - u.min(), verts[:, 2] - ground]).astype(np.float32)


def mesh_surfaces(building: Building) -> Mesh:
    """One flat-shaded mesh of all of a building's surfaces (outward normals as the rings wind).

    Walls get facade ``uvs`` (metres along the wall and up from the building's base), like extrusions.
    """
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
                _facade_uvs(verts, n, float(building.base)) if surface.kind != "roof" else None,
            )
        )
    mesh, _ = concatenate(parts)
    return mesh
