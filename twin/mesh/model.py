"""The mesh record shared by the meshers and the encoder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: sRGB vertex colours (walls, flat roofs, pitched roofs).
WALL_COLOR = (236, 230, 218)
FLAT_ROOF_COLOR = (168, 164, 158)
PITCHED_ROOF_COLOR = (170, 84, 60)


@dataclass(frozen=True, slots=True)
class Mesh:
    """A triangle mesh.

    positions : (n, 3) float64, working CRS metres, Z up
    normals : (n, 3) float32, unit length
    indices : (m, 3) uint32, counter-clockwise seen from outside
    colors : (n, 3) uint8 sRGB
    """

    positions: np.ndarray
    normals: np.ndarray
    indices: np.ndarray
    colors: np.ndarray

    @property
    def vertex_count(self) -> int:
        """Number of vertices."""
        return int(self.positions.shape[0])

    @property
    def triangle_count(self) -> int:
        """Number of triangles."""
        return int(self.indices.shape[0])

    @classmethod
    def empty(cls) -> Mesh:
        """A mesh with no vertices."""
        return cls(
            np.zeros((0, 3)),
            np.zeros((0, 3), np.float32),
            np.zeros((0, 3), np.uint32),
            np.zeros((0, 3), np.uint8),
        )


def concatenate(meshes: Sequence[Mesh]) -> tuple[Mesh, np.ndarray]:
    """Join meshes into one; also return (n,) uint32 the index of the source mesh of every vertex."""
    meshes = [m for m in meshes]
    if not meshes:
        return Mesh.empty(), np.zeros(0, np.uint32)
    counts = np.array([m.vertex_count for m in meshes])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    indices = np.concatenate([m.indices + np.uint32(o) for m, o in zip(meshes, offsets, strict=True)])
    mesh = Mesh(
        np.concatenate([m.positions for m in meshes]),
        np.concatenate([m.normals for m in meshes]).astype(np.float32),
        indices.astype(np.uint32),
        np.concatenate([m.colors for m in meshes]).astype(np.uint8),
    )
    owner = np.repeat(np.arange(len(meshes), dtype=np.uint32), counts)
    return mesh, owner
