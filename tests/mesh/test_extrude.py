"""Extrusion and roofs: closed, consistently wound meshes with correct normals and volumes."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import trimesh
from shapely.geometry import Polygon, box

from twin.mesh import mesh_building
from twin.records import Building, Roof, Surface

FOOTPRINTS = {
    "unit square": box(0, 0, 1, 1),
    "rectangle": box(0, 0, 10, 6),
    "L-shape": Polygon([(0, 0), (10, 0), (10, 4), (4, 4), (4, 10), (0, 10)]),
    "courtyard": box(0, 0, 20, 20).difference(box(5, 5, 15, 15)),
    "skewed quad": Polygon([(0, 0), (7, 1), (9, 8), (2, 6)]),
}
SHAPES = ["flat", "gabled", "hipped", "pyramidal", "skillion"]


def _trimesh(b: Building) -> trimesh.Trimesh:
    m = mesh_building(b)
    t = trimesh.Trimesh(m.positions, m.indices, process=False)
    # Crease points computed from two neighbouring triangles agree to ~1e-9 m; merge at 10 µm.
    t.merge_vertices(digits_vertex=5)
    return t


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", list(FOOTPRINTS))
def test_closed_and_outward(shape: str, name: str) -> None:
    fp = shapely.orient_polygons(FOOTPRINTS[name])
    roof_h = 0.3 if name == "unit square" else 3.0
    t = _trimesh(Building("b", "t", "EPSG:25832", fp, 0.0, 10.0, Roof(shape, roof_h)))
    assert t.is_watertight, f"{shape} on {name} is not closed"
    assert t.is_winding_consistent
    assert t.volume > 0  # positive volume: faces wind outward
    # The roof never rises above the top nor stays below the eaves; the floor is at the base. (On L-shapes
    # the ridge of the bounding box can lie outside the footprint, so the top may not be reached.)
    assert 10.0 - roof_h - 1e-9 <= t.vertices[:, 2].max() <= 10.0 + 1e-9
    assert t.vertices[:, 2].min() == pytest.approx(0.0)


def test_unit_square_flat_block() -> None:
    b = Building("b", "t", "EPSG:25832", box(0, 0, 1, 1), 0.0, 3.0)
    m = mesh_building(b)
    assert m.triangle_count == 12  # 4 walls, roof and floor, two triangles each
    t = _trimesh(b)
    assert t.volume == pytest.approx(3.0)
    # Normals are unit length and agree with the triangles' winding.
    assert np.allclose(np.linalg.norm(m.normals, axis=1), 1.0)
    tri_normals = np.cross(
        m.positions[m.indices[:, 1]] - m.positions[m.indices[:, 0]],
        m.positions[m.indices[:, 2]] - m.positions[m.indices[:, 0]],
    )
    assert np.all(np.einsum("ij,ij->i", tri_normals, m.normals[m.indices[:, 0]]) > 0)


def test_min_height_lifts_the_base() -> None:
    t = _trimesh(Building("b", "t", "EPSG:25832", box(0, 0, 4, 4), 5.0, 8.0))
    assert t.bounds[0][2] == pytest.approx(5.0) and t.volume == pytest.approx(48.0)


@pytest.mark.parametrize(
    ("shape", "volume"),
    [
        ("gabled", 10 * 6 * 7 + 10 * 6 * 3 / 2),  # prism: half the roof box
        ("pyramidal", 10 * 6 * 7 + 10 * 6 * 3 / 3),  # pyramid: a third
        ("skillion", 10 * 6 * 7 + 10 * 6 * 3 / 2),  # wedge: half
    ],
)
def test_roof_volumes(shape: str, volume: float) -> None:
    t = _trimesh(Building("b", "t", "EPSG:25832", box(0, 0, 10, 6), 0.0, 10.0, Roof(shape, 3.0)))
    assert t.volume == pytest.approx(volume)


def test_hipped_volume_between_gabled_and_pyramidal() -> None:
    vols = {
        s: _trimesh(Building("b", "t", "EPSG:25832", box(0, 0, 10, 6), 0.0, 10.0, Roof(s, 3.0))).volume
        for s in ("gabled", "hipped", "pyramidal")
    }
    assert vols["pyramidal"] < vols["hipped"] < vols["gabled"]


def test_gabled_ridge_along_long_side_by_default_and_across_on_request() -> None:
    along = mesh_building(Building("b", "t", "EPSG:25832", box(0, 0, 10, 6), 0.0, 10.0, Roof("gabled", 3.0)))
    top = along.positions[np.isclose(along.positions[:, 2], 10.0)]
    assert np.ptp(top[:, 0]) == pytest.approx(10.0) and np.ptp(top[:, 1]) == pytest.approx(0.0)
    across = mesh_building(
        Building("b", "t", "EPSG:25832", box(0, 0, 10, 6), 0.0, 10.0, Roof("gabled", 3.0, orientation="across"))
    )
    top = across.positions[np.isclose(across.positions[:, 2], 10.0)]
    assert np.ptp(top[:, 1]) == pytest.approx(6.0) and np.ptp(top[:, 0]) == pytest.approx(0.0)


def test_skillion_direction_faces_the_slope() -> None:
    # roof:direction = 90 (east): the roof slopes down towards the east, high on the west side.
    m = mesh_building(Building("b", "t", "EPSG:25832", box(0, 0, 10, 10), 0.0, 10.0, Roof("skillion", 3.0, 90.0)))
    top = m.positions[np.isclose(m.positions[:, 2], 10.0)]
    low = m.positions[np.isclose(m.positions[:, 2], 7.0)]
    assert np.allclose(top[:, 0], 0.0) and np.allclose(low[:, 0], 10.0)


def test_surface_model_keeps_polygons_and_holes() -> None:
    outer = np.array([[0, 0, 0], [10, 0, 0], [10, 0, 10], [0, 0, 10]], float)
    hole = np.array([[4, 0, 4], [4, 0, 6], [6, 0, 6], [6, 0, 4]], float)
    m = mesh_building(Building("b", "t", "EPSG:25832", surfaces=(Surface(outer, (hole,), "wall"),)))
    area = (
        0.5
        * np.linalg.norm(
            np.cross(
                m.positions[m.indices[:, 1]] - m.positions[m.indices[:, 0]],
                m.positions[m.indices[:, 2]] - m.positions[m.indices[:, 0]],
            ),
            axis=1,
        ).sum()
    )
    assert area == pytest.approx(100 - 4)
    # Ring wound counter-clockwise seen from -y: the normal points to -y.
    assert np.allclose(m.normals, [0, -1, 0])


def test_gabled_direction_is_the_slope_facing() -> None:
    # roof:direction = 0 (slope faces north): the ridge runs east-west.
    m = mesh_building(Building("b", "t", "EPSG:25832", box(0, 0, 10, 10), 0.0, 10.0, Roof("gabled", 3.0, 0.0)))
    top = m.positions[np.isclose(m.positions[:, 2], 10.0)]
    assert np.ptp(top[:, 0]) == pytest.approx(10.0) and np.allclose(top[:, 1], 5.0)
