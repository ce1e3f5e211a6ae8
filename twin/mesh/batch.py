"""Vectorised extrusion of many flat-roofed footprints at once (the bulk of LoD1 cities).

The per-building mesher (:mod:`twin.mesh.extrude`) costs a few hundred microseconds of Python per building;
here all walls of a tile are built with one set of numpy operations and only earcut runs per polygon, which
makes LoD1 meshing ~10× faster. The output is the same mesh: walls, flat roof and floor, flat-shaded,
with facade ``uvs`` on the walls.
"""

from __future__ import annotations

from collections.abc import Sequence

import mapbox_earcut
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from .extrude import wall_quads
from .model import FLAT_ROOF_COLOR, WALL_COLOR, Mesh, wall_uvs


def extrude_flat_batch(
    footprints: Sequence[Polygon | MultiPolygon], bases: np.ndarray, tops: np.ndarray
) -> tuple[Mesh, np.ndarray]:
    """Closed flat-roofed blocks for many repaired footprints (CCW exteriors, CW holes).

    footprints : k polygons or multipolygons; bases, tops : (k,) float64 metres
    returns : one mesh and (n,) uint32, the footprint index of every vertex
    """
    parts = shapely.get_parts(np.asarray(footprints, dtype=object), return_index=True)
    polys, poly_owner = parts
    rings, ring_poly = shapely.get_rings(polys, return_index=True)
    coords, point_ring = shapely.get_coordinates(rings, return_index=True)
    # Drop every ring's closing point.
    n_ring = len(rings)
    ring_len = np.bincount(point_ring, minlength=n_ring)
    ring_end = np.cumsum(ring_len)
    keep = np.ones(len(coords), bool)
    keep[ring_end - 1] = False
    pts = coords[keep]
    pring = point_ring[keep]
    ring_len = ring_len - 1
    ring_start = np.concatenate([[0], np.cumsum(ring_len)[:-1]])
    # The next point along each ring (wrapping at the ring's end).
    idx = np.arange(len(pts))
    nxt = idx + 1
    last = ring_start + ring_len - 1
    nxt[last] = ring_start
    owner_pt = poly_owner[ring_poly[pring]]
    base_pt, top_pt = bases[owner_pt], tops[owner_pt]

    # Walls: four vertices per ring edge.
    wall_pos, wall_nrm, wall_tri, ok = wall_quads(pts, pts[nxt], base_pt, top_pt, top_pt)
    wo = owner_pt[ok]
    m = len(wo)

    # Caps: earcut per polygon over its (contiguous) rings.
    poly_first_ring = np.searchsorted(ring_poly, np.arange(len(polys)))
    poly_last_ring = np.searchsorted(ring_poly, np.arange(len(polys)), side="right")
    tris = []
    for k in range(len(polys)):
        r0, r1 = poly_first_ring[k], poly_last_ring[k]
        s0 = ring_start[r0]
        ends = (ring_start[r0:r1] + ring_len[r0:r1] - s0).astype(np.uint32)
        local = mapbox_earcut.triangulate_float64(pts[s0 : s0 + ends[-1]], ends)
        tris.append(local.astype(np.uint32) + np.uint32(s0))
    cap = np.concatenate(tris).reshape(-1, 3) if tris else np.zeros((0, 3), np.uint32)
    a, b, c = pts[cap[:, 0]], pts[cap[:, 1]], pts[cap[:, 2]]
    cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    cap[cross < 0] = cap[cross < 0][:, ::-1]  # counter-clockwise from above

    k_pts = len(pts)
    w = 4 * m
    roof_pos = np.column_stack([pts, top_pt])
    # The floor has vertices of its own, so its normals point down; under Draco this is also smaller than
    # borrowing the walls' bottom corners (docs/architecture.md).
    floor_pos = np.column_stack([pts, base_pt])
    positions = np.concatenate([wall_pos, roof_pos, floor_pos])
    normals = np.concatenate(
        [
            wall_nrm,
            np.tile(np.array([0, 0, 1], np.float32), (k_pts, 1)),
            np.tile(np.array([0, 0, -1], np.float32), (k_pts, 1)),
        ]
    )
    floor = cap[:, ::-1] + np.uint32(w + k_pts)
    owner = np.concatenate([np.repeat(wo, 4), owner_pt, owner_pt]).astype(np.uint32)
    indices = np.concatenate([wall_tri, cap + np.uint32(w), floor]).astype(np.uint32)
    colors = np.empty((len(positions), 3), np.uint8)
    colors[:w] = WALL_COLOR
    colors[w : w + k_pts] = FLAT_ROOF_COLOR
    colors[w + k_pts :] = WALL_COLOR
    uvs = np.zeros((len(positions), 2), np.float32)
    uvs[:w] = wall_uvs(wall_pos)
    return Mesh(positions, normals, indices, colors, uvs), owner
