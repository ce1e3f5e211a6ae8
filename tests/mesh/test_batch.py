"""The vectorised LoD1 mesher gives closed blocks equal in volume to the one-by-one mesher."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import trimesh
from shapely.geometry import MultiPolygon, box

from twin.mesh import mesh_building
from twin.mesh.batch import extrude_flat_batch
from twin.records import Building

FOOTPRINTS = [
    box(0, 0, 1, 1),
    box(5, 5, 15, 15).difference(box(8, 8, 12, 12)),  # courtyard
    MultiPolygon([box(20, 0, 22, 2), box(30, 0, 33, 3)]),
]
BASES = np.array([0.0, 1.0, 0.0])
TOPS = np.array([3.0, 10.0, 5.0])


def _part(mesh, owner, k):  # type: ignore[no-untyped-def]
    sel = np.flatnonzero(owner == k)
    remap = -np.ones(len(owner), int)
    remap[sel] = np.arange(len(sel))
    tris = mesh.indices[np.all(np.isin(mesh.indices, sel), axis=1)]
    t = trimesh.Trimesh(mesh.positions[sel], remap[tris], process=False)
    t.merge_vertices(digits_vertex=6)
    return t, len(tris)


def test_batch_blocks_are_closed_and_match_one_by_one() -> None:
    fps = [shapely.orient_polygons(g) for g in FOOTPRINTS]
    mesh, owner = extrude_flat_batch(fps, BASES, TOPS)
    for k, fp in enumerate(fps):
        t, n_tris = _part(mesh, owner, k)
        ref = mesh_building(Building("b", "t", "EPSG:25832", fp, BASES[k], TOPS[k]))
        assert t.is_watertight and t.is_winding_consistent
        assert t.volume == pytest.approx(fp.area * (TOPS[k] - BASES[k]))
        assert n_tris == ref.triangle_count


def test_every_face_has_its_own_vertices_and_normals() -> None:
    fp = box(0, 0, 10, 6)
    mesh, _ = extrude_flat_batch([fp], np.array([0.0]), np.array([9.0]))
    # 4 walls x 4 corners + 4 roof corners + 4 floor corners.
    assert mesh.vertex_count == 24 and mesh.triangle_count == 12
    p = mesh.positions[mesh.indices]
    n = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    n /= np.linalg.norm(n, axis=1)[:, None]
    # Each triangle's vertex normals are its face normal: the floor faces down, the roof up.
    for corner in range(3):
        np.testing.assert_allclose(mesh.normals[mesh.indices[:, corner]], n, atol=1e-6)
    floor = p[:, :, 2].max(axis=1) == 0.0
    assert floor.sum() == 2 and np.all(n[floor, 2] == -1.0)
