"""Terrain tiles as 3D Tiles 1.1: one glb per pyramid tile and the REPLACE-refined tileset over them (no I/O).

Placement is the buildings': every vertex is encoded as ``inverse(root) · ECEF(vertex)`` through
:meth:`twin.crs.Frame.exact_local`, and the root tile carries the scene frame's ENU→ECEF matrix, so terrain
and buildings meet to the millimetre however far from the origin. Each tile is one feature of the metadata
class ``terrain`` (its source and measured error), so a viewer picking the ground can say what it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from twin.context.terrain import TerrainTile
from twin.crs import Frame
from twin.encode.glb import MeshBatch, encode_glb
from twin.encode.metadata import PropertySpec, PropertyTable
from twin.encode.tileset import Box, Tile, Tileset

#: The metadata class of terrain tiles (one row per tile).
TERRAIN_CLASS = "terrain"
TERRAIN_PROPERTIES = {
    "source": PropertySpec("STRING", description="the DEM the heights come from"),
    "error": PropertySpec("SCALAR", "FLOAT32", description="largest vertical deviation from the DEM (m)"),
}
#: Ground colour (sRGB): a muted earth tone that roads, areas and buildings stand out against.
GROUND_COLOR = (178, 172, 146)


@dataclass(frozen=True)
class TerrainContent:
    """One encoded terrain tile: the glb and its extent in the root frame's local coordinates.

    lo, hi : (3,) float64 corners of its box; triangles : triangle count (skirts included)
    """

    key: str
    glb: bytes
    lo: np.ndarray
    hi: np.ndarray
    triangles: int


def encode_terrain_tile(tile: TerrainTile, frame: Frame, source: str = "", *, compress: bool = True) -> TerrainContent:
    """One pyramid tile as glb bytes, placed exactly in ``frame``."""
    local = frame.exact_local(tile.positions)
    # Normals are working-CRS directions; the affine root frame is the same rotation for all of them (the
    # meridian convergence is in the matrix), so they go through unchanged like the buildings' do.
    n = len(local)
    colors = np.broadcast_to(np.array(GROUND_COLOR, dtype=np.uint8), (n, 3)).copy()
    batch = MeshBatch(local, tile.normals, tile.indices, np.zeros(n, dtype=np.int64), colors)
    table = PropertyTable(
        TERRAIN_CLASS, TERRAIN_PROPERTIES, {"source": [source or None], "error": [round(tile.error, 3)]}
    )
    glb = encode_glb(batch, table, compress=compress)
    return TerrainContent(tile.key, glb, local.min(axis=0), local.max(axis=0), len(tile.indices))


def terrain_tileset(
    root: TerrainTile, contents: Mapping[str, TerrainContent], uris: Mapping[str, str], frame: Frame
) -> Tileset:
    """The terrain tileset: the pyramid as REPLACE-refined tiles under the scene frame's root transform.

    contents : key → encoded tile; uris : key → content URI relative to the tileset.json. A tile's
    geometric error is its measured deviation from the DEM (what a viewer misses by not refining); leaves
    have 0.
    """

    def tile_of(t: TerrainTile) -> Tile:
        children = [tile_of(c) for c in t.children]
        content = contents[t.key]
        box = Box(content.lo, content.hi)
        for child in children:
            box = box.union(child.box)
        error = t.error if children else 0.0
        return Tile(box=box, geometric_error=error, content_uri=uris[t.key], refine="REPLACE", children=children)

    top = tile_of(root)
    top.transform = frame.matrix
    diagonal = float(np.linalg.norm(top.box.hi - top.box.lo))
    return Tileset(root=top, geometric_error=max(diagonal / 4.0, top.geometric_error * 2.0, 1.0))
