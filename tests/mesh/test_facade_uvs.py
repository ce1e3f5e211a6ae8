"""Facade coordinates: metres along each wall and up on walls, (0, 0) on roofs; kept by the glb encoder."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from twin.content import mesh_tile
from twin.encode import MeshBatch, building_table, encode_glb, read_glb
from twin.encode.glb import UV_STEP, from_gltf_axes, read_primitive
from twin.mesh import mesh_building
from twin.mesh.batch import extrude_flat_batch
from twin.records import Building, Roof
from twin.report import Report


def _walls(mesh: Any) -> np.ndarray:
    return np.abs(mesh.normals[:, 2]) < 0.5


def test_flat_block_walls_measure_metres_along_and_up() -> None:
    footprint = shapely.orient_polygons(box(0, 0, 12, 5))
    mesh, _ = extrude_flat_batch([footprint], np.array([0.0]), np.array([9.0]))
    assert mesh.uvs is not None and mesh.uvs.shape == (mesh.vertex_count, 2)
    walls = _walls(mesh)
    uv = mesh.uvs[walls]
    # Four walls from corner to corner: 12 m and 5 m long, from the ground to the 9 m eaves.
    assert sorted({round(float(u), 3) for u in uv[:, 0]}) == [0.0, 5.0, 12.0]
    np.testing.assert_allclose(uv[:, 1], mesh.positions[walls, 2])
    assert set(np.round(uv[:, 1], 3)) == {0.0, 9.0}
    # Roof and floor carry no facade.
    assert not mesh.uvs[~walls].any()


def test_walls_under_a_gabled_roof_rise_to_the_roof_line() -> None:
    building = Building(
        "b", "t", "EPSG:25832", shapely.orient_polygons(box(0, 0, 10, 8)), 0.0, 9.0, Roof("gabled", 3.0)
    )
    mesh = mesh_building(building)
    assert mesh.uvs is not None
    walls = _walls(mesh)
    np.testing.assert_allclose(mesh.uvs[walls, 1], mesh.positions[walls, 2], atol=1e-9)
    assert mesh.uvs[walls, 1].max() == pytest.approx(9.0)  # the gable ends reach the ridge
    assert not mesh.uvs[~walls].any()


def test_a_tile_of_mixed_roofs_keeps_one_uv_per_vertex() -> None:
    flat = Building("a", "t", "EPSG:25832", shapely.orient_polygons(box(0, 0, 10, 10)), 0.0, 6.0)
    pitched = Building(
        "b", "t", "EPSG:25832", shapely.orient_polygons(box(20, 0, 30, 8)), 0.0, 9.0, Roof("hipped", 3.0)
    )
    mesh, owner, kept = mesh_tile([flat, pitched], Report())
    assert len(kept) == 2 and mesh.uvs.shape == (mesh.vertex_count, 2) and len(owner) == mesh.vertex_count


@pytest.mark.parametrize("compress", [True, False])
def test_glb_keeps_facade_coordinates(compress: bool, gltf_validator: Any) -> None:
    footprints = [shapely.orient_polygons(box(x, 0, x + 8 + x / 10, 6)) for x in range(0, 200, 20)]
    mesh, owner = extrude_flat_batch(footprints, np.zeros(10), np.linspace(3.0, 30.0, 10))
    batch = MeshBatch(mesh.positions - 100.0, mesh.normals, mesh.indices, owner, mesh.colors, mesh.uvs)
    rows = [{"id": f"way/{i}", "source": "t", "height": 9.0} for i in range(10)]
    glb = encode_glb(batch, building_table(rows), compress=compress)
    gltf, binary = read_glb(glb)
    (primitive,) = gltf["meshes"][0]["primitives"]
    assert "TEXCOORD_0" in primitive["attributes"]
    arrays = read_primitive(gltf, binary, primitive)
    node = gltf["nodes"][0]
    positions = from_gltf_axes(arrays["POSITION"] * np.array(node.get("scale", [1, 1, 1])) + node["translation"])
    uv = arrays["TEXCOORD_0"].astype(np.float64)
    walls = np.abs(from_gltf_axes(arrays["NORMAL"].astype(np.float64))[:, 2]) < 0.5
    # v is the wall vertex's height above the ground (the positions here are shifted down by 100 m).
    tolerance = UV_STEP if compress else 1e-5
    np.testing.assert_allclose(uv[walls, 1], positions[walls, 2] + 100.0, atol=tolerance + 0.01)
    assert uv[walls, 0].max() == pytest.approx(8 + 180 / 10, abs=tolerance)
    (report,) = gltf_validator([glb])
    assert report["numErrors"] == 0 and report["numWarnings"] == 0, report["messages"]
