"""Extruded footprints (LoD1 blocks and parametric roofs) as closed, flat-shaded meshes."""

from __future__ import annotations

import numpy as np
from shapely.geometry import MultiPolygon

from ..records import Building
from .model import FLAT_ROOF_COLOR, PITCHED_ROOF_COLOR, WALL_COLOR, Mesh, concatenate, wall_uvs
from .roofs import RoofPlanes, clip_halfplane, densify_ring, roof_planes
from .triangulate import polygon_rings, triangulate_rings


def wall_quads(
    p: np.ndarray, q: np.ndarray, bottom: np.ndarray | float, top_p: np.ndarray, top_q: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vertical quads over edges p → q, from ``bottom`` up to ``top_p`` / ``top_q`` at the edge's ends.

    p, q : (n, 2) edge ends; bottom : scalar or (n,); top_p, top_q : (n,)
    returns : positions (4m, 3), normals (4m, 3) float32, triangles (2m, 3) uint32 and the (n,) mask of
        edges kept (zero-length edges have no wall). Exterior rings are counter-clockwise and holes
        clockwise, so ``(dy, -dx)`` always points away from the building's material.
    """
    d = q - p
    length = np.hypot(d[:, 0], d[:, 1])
    keep = length > 0
    p, q, d, length = p[keep], q[keep], d[keep], length[keep]
    bottom = np.broadcast_to(bottom, keep.shape)[keep]
    m = len(p)
    pos = np.empty((m, 4, 3))
    pos[:, 0, :2], pos[:, 0, 2] = p, bottom
    pos[:, 1, :2], pos[:, 1, 2] = q, bottom
    pos[:, 2, :2], pos[:, 2, 2] = q, top_q[keep]
    pos[:, 3, :2], pos[:, 3, 2] = p, top_p[keep]
    normal = np.zeros((m, 3), np.float32)
    normal[:, 0] = d[:, 1] / length
    normal[:, 1] = -d[:, 0] / length
    first = (np.arange(m, dtype=np.uint32) * 4)[:, None]
    tris = np.concatenate([first + np.array([0, 1, 2], np.uint32), first + np.array([0, 2, 3], np.uint32)])
    return pos.reshape(-1, 3), np.repeat(normal, 4, axis=0), tris, keep


def _walls(ring: np.ndarray, base: float, tops: np.ndarray) -> Mesh:
    """Vertical quads along a ring, from ``base`` up to ``tops`` (k,) at each ring point."""
    pos, normals, tris, _ = wall_quads(ring, np.roll(ring, -1, axis=0), base, tops, np.roll(tops, -1))
    return Mesh(pos, normals, tris, np.tile(np.array(WALL_COLOR, np.uint8), (len(pos), 1)), wall_uvs(pos))


def _cap(rings: list[np.ndarray], z: np.ndarray | float, up: bool, color: tuple[int, int, int]) -> Mesh:
    """A horizontal cap (floor or flat roof) over a polygon given by rings; normal up or down."""
    verts2, tris = triangulate_rings(rings)
    if not up:
        tris = tris[:, ::-1]
    pos = np.column_stack([verts2, np.broadcast_to(z, len(verts2))])
    normal = np.tile(np.array([0, 0, 1 if up else -1], np.float32), (len(pos), 1))
    return Mesh(pos, normal, np.ascontiguousarray(tris, np.uint32), np.tile(np.array(color, np.uint8), (len(pos), 1)))


def _sloped_roof(rings: list[np.ndarray], planes: RoofPlanes, top: float, height: float) -> Mesh:
    """The roof over one polygon (densified rings): earcut triangles split along the creases.

    Each earcut triangle is clipped to every plane's region (convex clipping, exact), and each piece is fanned
    into triangles lifted onto its plane. Outline edges carry no crease crossing after densification, so the
    roof meets the wall tops without cracks.
    """
    verts2, tris = triangulate_rings(rings)
    k = len(planes.offsets)
    # Halfplanes g_i - g_j >= 0 in absolute coordinates, for every ordered pair.
    halfplanes = {
        i: [
            (
                planes.weights[i] - planes.weights[j],
                planes.offsets[i] - planes.offsets[j] - planes.centre @ (planes.weights[i] - planes.weights[j]),
            )
            for j in range(k)
            if j != i
        ]
        for i in range(k)
    }
    pos_parts, nrm_parts, idx_parts = [], [], []
    count = 0
    for i in range(k):
        grad = -height * planes.weights[i]
        normal = np.array([-grad[0], -grad[1], 1.0])
        normal = (normal / np.linalg.norm(normal)).astype(np.float32)
        for tri in tris:
            piece = verts2[tri]
            for w, c in halfplanes[i]:
                piece = clip_halfplane(piece, w, c)
                if len(piece) < 3:
                    break
            if len(piece) < 3:
                continue
            # Clipping at a vertex that lies on a crease can repeat it: drop consecutive duplicates.
            step = np.linalg.norm(piece - np.roll(piece, 1, axis=0), axis=1)
            piece = piece[step > 1e-9]
            if len(piece) < 3:
                continue
            # Fan the convex piece; drop slivers (a triangle touching this region only along a crease).
            fan = np.array([[0, j, j + 1] for j in range(1, len(piece) - 1)], np.uint32)
            p0, p1, p2 = piece[fan[:, 0]], piece[fan[:, 1]], piece[fan[:, 2]]
            cross = (p1[:, 0] - p0[:, 0]) * (p2[:, 1] - p0[:, 1]) - (p1[:, 1] - p0[:, 1]) * (p2[:, 0] - p0[:, 0])
            fan = fan[np.abs(cross) > 1e-12]
            if not len(fan):
                continue
            z = top - height * planes.g(piece)[:, i]
            pos_parts.append(np.column_stack([piece, z]))
            nrm_parts.append(np.tile(normal, (len(piece), 1)))
            idx_parts.append(fan + count)
            count += len(piece)
    if not pos_parts:
        return Mesh.empty()
    pos = np.concatenate(pos_parts)
    return Mesh(
        pos,
        np.concatenate(nrm_parts),
        np.concatenate(idx_parts),
        np.tile(np.array(PITCHED_ROOF_COLOR, np.uint8), (len(pos), 1)),
    )


def extrude_building(building: Building) -> Mesh:
    """A closed mesh for a building with a footprint: walls, floor and flat or pitched roof.

    The building must be repaired (valid counter-clockwise footprint in the working CRS, height set).
    """
    footprint = building.footprint
    if footprint is None or building.height is None:
        return Mesh.empty()
    base, top = float(building.base), float(building.height)
    polys = list(footprint.geoms) if isinstance(footprint, MultiPolygon) else [footprint]
    planes = roof_planes(footprint, building.roof)
    parts: list[Mesh] = []
    for poly in polys:
        rings = polygon_rings(poly)
        if planes is None:
            parts.append(_cap(rings, top, True, FLAT_ROOF_COLOR))
            for ring in rings:
                parts.append(_walls(ring, base, np.full(len(ring), top)))
            parts.append(_cap(rings, base, False, WALL_COLOR))
            continue
        rh = float(building.roof.height)
        dense = [densify_ring(r, planes) for r in rings]
        for ring in dense:
            parts.append(_walls(ring, base, top - rh * planes.level(ring)))
        parts.append(_cap(dense, base, False, WALL_COLOR))
        parts.append(_sloped_roof(dense, planes, top, rh))
    mesh, _ = concatenate(parts)
    return mesh
