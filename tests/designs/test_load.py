"""Import: format sniffing by content, units, up axis, metadata, and the errors bad designs get."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from twin.designs.load import load_design, sniff
from twin.designs.model import Design
from twin.errors import DesignError

from .conftest import FIXTURES


def test_sniff_by_content_not_extension(tmp_path: Path) -> None:
    for name, expected in [
        ("AC20-FZK-Haus.ifc", "ifc"),
        ("pmndrs_house-5.glb", "glb"),
        ("box.gltf", "gltf"),
        ("box_cm.obj", "obj"),
    ]:
        renamed = tmp_path / f"upload_{expected}.bin"
        shutil.copy(FIXTURES / name, renamed)
        assert sniff(renamed) == expected


def test_ifc_units_axis_metadata(fzk: Design) -> None:
    lo, hi = fzk.bounds
    # The FZK-Haus is 12 x 10 m in plan (plus eaves), about 6.5 m high; metres, Z up.
    assert 11.5 < hi[0] - lo[0] < 14.0 and 9.5 < hi[1] - lo[1] < 12.0
    assert 6.0 < hi[2] - lo[2] < 7.0
    assert [s.name for s in fzk.storeys] == ["Erdgeschoss", "Dachgeschoss"]
    assert fzk.storeys[1].elevation == pytest.approx(2.7)
    walls = [p for p in fzk.parts.values() if p["usage"].startswith("IfcWall")]
    assert len(walls) >= 13
    assert all(len(p["id"]) == 22 for p in walls)  # IFC GlobalIds
    assert {p["storey"] for p in walls} == {"Erdgeschoss", "Dachgeschoss"}
    assert not any(p["usage"] in ("IfcSpace", "IfcOpeningElement", "IfcSite") for p in fzk.parts.values())
    assert fzk.georef is not None and fzk.georef.route == "site"


def test_glb_y_up_becomes_z_up(house: Design) -> None:
    size = house.bounds[1] - house.bounds[0]
    # 13 m wide, 7.5 m deep, 9 m high: the file's Y (up) is our Z.
    np.testing.assert_allclose(size, [13.02, 7.54, 9.0], atol=0.02)
    assert house.bounds[0][2] == pytest.approx(0.0, abs=1e-6)
    assert len(house.parts) == 5


def test_draco_compressed_glb_design(tmp_path: Path, house: Design) -> None:
    # Blender and gltf-pipeline can export Draco; the importer decodes it (DracoPy) to the same house.
    import trimesh

    from twin.encode.glb import read_glb

    scene = trimesh.load_scene(FIXTURES / "pmndrs_house-5.glb")
    draco = tmp_path / "house_draco.glb"
    draco.write_bytes(scene.export(file_type="glb", extension_draco=True))
    assert "KHR_draco_mesh_compression" in read_glb(draco.read_bytes())[0]["extensionsRequired"]
    d = load_design(draco)
    np.testing.assert_allclose(d.bounds, house.bounds, atol=0.01)
    assert sum(len(m.faces) for m in d.meshes().values()) == sum(len(m.faces) for m in house.meshes().values())


def test_obj_centimetres_declared() -> None:
    d = load_design(FIXTURES / "box_cm.obj", units="cm")
    np.testing.assert_allclose(d.bounds[1] - d.bounds[0], [10.0, 6.0, 8.0], atol=1e-9)
    mesh = next(iter(d.meshes().values()))
    assert mesh.visual.uv is not None and mesh.visual.material.image is not None  # texture kept


def test_obj_without_units_is_refused_as_too_large_when_huge(tmp_path: Path) -> None:
    # The same box read as metres is 10 km wide: refused with a hint to declare the units.
    big = tmp_path / "big.obj"
    big.write_text("v 0 0 0\nv 300000 0 0\nv 0 300000 0\nf 1 2 3\n")
    with pytest.raises(DesignError, match="units"):
        load_design(big)


def test_declared_up_axis_z() -> None:
    d = load_design(FIXTURES / "box.gltf", up_axis="Z")
    np.testing.assert_allclose(d.bounds[1] - d.bounds[0], [4.0, 5.0, 3.0], atol=1e-9)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02garbage", "unknown design format"),
        (b"ISO-10303-21;\nHEADER;\nFILE_SCHEMA(('AP214'));\nENDSEC;\n", "not IFC"),
        (b"v 0 0 0\nv 1 0 0\nv 0 nan 0\nf 1 2 3\n", "NaN"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\n", "no triangles"),
        (b'{"asset": {"version": "2.0"}, "buffers": [{"uri": "file:///etc/passwd", "byteLength": 4}]}', "external"),
        (b'{"asset": {"version": "2.0"}, "buffers": [{"uri": "../secret.bin", "byteLength": 4}]}', "'..'"),
        (b'{"asset": {"version": "2.0"}, "images": [{"uri": "missing.png"}]}', "does not exist"),
        (b"mtllib ../other/x.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "'..'"),
        (b"<root xmlns='urn:other'/>", "not CityGML"),
        (b"glTF\x02\x00\x00\x00", "unreadable glTF"),
    ],
)
def test_bad_designs_get_clear_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "design.dat"
    path.write_bytes(content)
    with pytest.raises(DesignError, match=message):
        load_design(path)


def test_external_http_uri_refused() -> None:
    with pytest.raises(DesignError, match=r"http://example.com/box.bin"):
        load_design(FIXTURES / "external_http.gltf")


def test_triangle_limit() -> None:
    with pytest.raises(DesignError, match="688 triangles"):
        load_design(FIXTURES / "pmndrs_house-5.glb", max_triangles=500)


def test_missing_file() -> None:
    with pytest.raises(DesignError, match="cannot read"):
        load_design(FIXTURES / "nope.ifc")


def test_citygml_building_as_design() -> None:
    path = FIXTURES.parent / "citygml" / "sig3d_building_and_garage_LOD2_citygml2.gml"
    d = load_design(path)
    assert d.format == "citygml"
    # Building 10 x 5 m plus garage: 12.5 x 5 m, 5 m high, centred in plan at its lowest point.
    np.testing.assert_allclose(d.bounds, [[-6.25, -2.5, 0.0], [6.25, 2.5, 5.0]], atol=1e-9)
    assert d.georef is not None and d.georef.crs == "EPSG:25832+5783"
    assert (d.georef.easting, d.georef.northing, d.georef.height) == (458881.25, 5438352.5, 112.0)
    assert {p["id"] for p in d.parts.values()} == {
        "GML_7b1a5a6f-ddad-4c3d-a507-3eb9ee0a8e68",
        "GMLID_BUI379228_1244_301",
    }
