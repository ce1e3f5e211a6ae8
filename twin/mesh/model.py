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
    uvs : (n, 2) float32 facade coordinates in metres, or ``None``: on walls ``u`` along the wall from
        its first corner and ``v`` up from the ground (working z, so storeys line up across building
        parts); (0, 0) on roofs and floors. The viewer draws storeys and windows from them
        (:func:`wall_uvs`, docs/architecture.md "Facades").
    """

    positions: np.ndarray
    normals: np.ndarray
    indices: np.ndarray
    colors: np.ndarray
    uvs: np.ndarray | None = None

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


def wall_uvs(positions: np.ndarray) -> np.ndarray:
    """Facade coordinates of wall quads: ``u`` metres along each wall, ``v`` its vertices' z.

    positions : (4m, 3) quads as :func:`twin.mesh.extrude.wall_quads` writes them (p-bottom, q-bottom,
        q-top, p-top); returns (4m, 2) float32 with ``u`` = 0 at p and the wall's length at q.
    """
    quads = positions.reshape(-1, 4, 3)
    length = np.hypot(*(quads[:, 1, :2] - quads[:, 0, :2]).T)
    uvs = np.empty((len(quads), 4, 2), np.float32)
    uvs[:, :, 0] = length[:, None] * np.array([0.0, 1.0, 1.0, 0.0])
    uvs[:, :, 1] = quads[:, :, 2]
    return uvs.reshape(-1, 2)


def concatenate(meshes: Sequence[Mesh]) -> tuple[Mesh, np.ndarray]:
    """Join meshes into one; also return (n,) uint32 the index of the source mesh of every vertex.

    When any of them has facade ``uvs``, the joined mesh has them too, (0, 0) for the others.
    """
    meshes = [m for m in meshes]
    if not meshes:
        return Mesh.empty(), np.zeros(0, np.uint32)
    counts = np.array([m.vertex_count for m in meshes])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    indices = np.concatenate([m.indices + np.uint32(o) for m, o in zip(meshes, offsets, strict=True)])
    uvs = None
    if any(m.uvs is not None for m in meshes):
        uvs = np.concatenate(
            [m.uvs if m.uvs is not None else np.zeros((m.vertex_count, 2), np.float32) for m in meshes]
        ).astype(np.float32)
    mesh = Mesh(
        np.concatenate([m.positions for m in meshes]),
        np.concatenate([m.normals for m in meshes]).astype(np.float32),
        indices.astype(np.uint32),
        np.concatenate([m.colors for m in meshes]).astype(np.uint8),
        uvs,
    )
    owner = np.repeat(np.arange(len(meshes), dtype=np.uint32), counts)
    return mesh, owner
