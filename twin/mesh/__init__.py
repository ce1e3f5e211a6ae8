"""Meshing: buildings (extruded footprints with roofs, or LoD1/LoD2 surfaces) → triangle meshes.

All meshes are in the working CRS (metres, Z up), flat-shaded (vertices split per face so normals are exact),
counter-clockwise seen from outside. Triangulation is done by earcut (mapbox-earcut), not by hand.
"""

from __future__ import annotations

from .build import mesh_building
from .model import Mesh, concatenate

__all__ = ["Mesh", "concatenate", "mesh_building"]
