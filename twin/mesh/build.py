"""Dispatch: the right mesher for a building."""

from __future__ import annotations

from ..records import Building
from .extrude import extrude_building
from .model import Mesh
from .surfaces import mesh_surfaces


def mesh_building(building: Building) -> Mesh:
    """Mesh one repaired building in the working CRS: its surfaces if it has them, else its extrusion."""
    if building.surfaces:
        return mesh_surfaces(building)
    return extrude_building(building)
