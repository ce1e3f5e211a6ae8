"""The glb of a placed design: valid glTF, exactly placed, with materials, textures and per-part metadata."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import GltfValidator
from twin.crs import Frame
from twin.designs.content import design_glb, placed_bounds
from twin.designs.georef import place
from twin.designs.load import load_design
from twin.designs.model import Anchor, Design, Placement
from twin.encode.glb import from_gltf_axes, read_accessor, read_glb, read_property_table

from .conftest import FIXTURES

CRS = "EPSG:25832"


def setup(design: Design, heading: float = 25.0) -> tuple[Placement, Frame, np.ndarray]:
    p = place(design, CRS, Anchor(lon=9.95, lat=53.577, elevation=1.0, heading=heading), ground_height=42.0)
    bounds = placed_bounds(design, p)
    x, y = bounds.mean(axis=0)[:2]
    # The scene origin 300 m away, so curvature and the tile centre both matter.
    frame = Frame.from_bounds(CRS, (x - 600, y - 600, x, y), height=42.0)
    return p, frame, bounds.mean(axis=0)


def test_ifc_glb_valid_placed_and_described(fzk: Design, gltf_validator: GltfValidator) -> None:
    p, frame, centre = setup(fzk)
    glb = design_glb(fzk, p, frame, centre)
    report = gltf_validator([glb])[0]
    assert report["numErrors"] == 0, report["messages"][:5]
    assert report["numWarnings"] == 0, report["messages"][:5]
    gltf, binary = read_glb(glb)
    assert {"EXT_mesh_features", "EXT_structural_metadata"} <= set(gltf["extensionsUsed"])
    table = read_property_table(gltf, binary)
    assert len(table["id"]) == len(fzk.parts)
    walls = [i for i, u in enumerate(table["usage"]) if u.startswith("IfcWall")]
    assert len(walls) >= 13 and all(len(table["id"][i]) == 22 for i in walls)
    assert set(table["storey"]) >= {"Erdgeschoss", "Dachgeschoss"}
    assert set(table["source"]) == {"AC20-FZK-Haus.ifc"} and table["levels"][0] == 2
    # Several materials (walls, roof, windows) survive as primitives.
    assert len(gltf["materials"]) >= 3
    # Every vertex lands where the placement says, through the root frame (to the millimetre).
    origin = frame.exact_local(np.stack([centre, centre]))[0]
    checked = 0
    parts = list(fzk.parts)
    for prim in gltf["meshes"][0]["primitives"]:
        pos = from_gltf_axes(read_accessor(gltf, binary, prim["attributes"]["POSITION"]).astype(np.float64))
        fid = read_accessor(gltf, binary, prim["attributes"]["_FEATURE_ID_0"])
        first = int(fid[0])
        mesh = fzk.meshes()[parts[first]]
        want = frame.exact_local(p.apply(mesh.vertices[:2]))[0] - origin
        assert np.abs(pos[0] - want).max() < 1e-3
        checked += 1
    assert checked == len(gltf["meshes"][0]["primitives"])


def test_textured_obj_keeps_its_texture(gltf_validator: GltfValidator) -> None:
    design = load_design(FIXTURES / "box_cm.obj", units="cm")
    p, frame, centre = setup(design)
    glb = design_glb(design, p, frame, centre, translate=True)
    assert gltf_validator([glb])[0]["numErrors"] == 0
    gltf, _ = read_glb(glb)
    assert len(gltf["images"]) == 1 and gltf["images"][0]["mimeType"] == "image/png"
    prim = gltf["meshes"][0]["primitives"][0]
    assert {"TEXCOORD_0", "NORMAL", "_FEATURE_ID_0"} <= set(prim["attributes"])
    material = gltf["materials"][prim["material"]]
    assert material["pbrMetallicRoughness"]["baseColorTexture"] == {"index": 0}
    # translate=True: the node carries the centre, so the glb is in the root frame itself.
    node_origin = from_gltf_axes(np.array([gltf["nodes"][0]["translation"]]))[0]
    np.testing.assert_allclose(node_origin, frame.exact_local(np.stack([centre, centre]))[0], atol=1e-6)


def test_glb_house_bounds_and_normals(house: Design, gltf_validator: GltfValidator) -> None:
    p, frame, centre = setup(house, heading=0.0)
    bounds = placed_bounds(house, p)
    assert bounds[1][2] - bounds[0][2] == pytest.approx(9.0, abs=0.01)
    assert bounds[0][2] == pytest.approx(1.0)
    glb = design_glb(house, p, frame, centre)
    assert gltf_validator([glb])[0]["numErrors"] == 0
    gltf, binary = read_glb(glb)
    colours = sorted(tuple(m["pbrMetallicRoughness"]["baseColorFactor"]) for m in gltf["materials"])
    assert len(colours) == 5 and colours[0] != colours[-1]
    # The file's normals are kept and stay unit length.
    prim = gltf["meshes"][0]["primitives"][0]
    normals = read_accessor(gltf, binary, prim["attributes"]["NORMAL"])
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-5)


def test_parts_with_equal_materials_share_one_primitive(fzk: Design) -> None:
    """IFC gives each product its own material object; the glb groups them by value (FZK: 8 colours)."""
    placement = place(fzk, "EPSG:25832", Anchor(lon=9.953255, lat=53.572851, heading=18.7))
    frame = Frame.from_bounds("EPSG:25832", (563000, 5936300, 563200, 5936500))
    gltf, _ = read_glb(design_glb(fzk, placement, frame, placement.matrix[:3, 3]))
    colours = {tuple(m["pbrMetallicRoughness"].get("baseColorFactor", ())) for m in gltf["materials"]}
    assert len(gltf["materials"]) == len(colours) <= 10
    assert sum(len(m["primitives"]) for m in gltf["meshes"]) == len(gltf["materials"])
