"""The glb encoder: valid glTF (Khronos validator), valid extensions, and a lossless-enough round trip."""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import pytest
from glb_boxes import ROOF_SRGB, WALL_SRGB, box_tile

from twin.encode import MeshBatch, building_table, encode_glb, read_glb, to_gltf_axes
from twin.encode.glb import (
    MAX_PALETTE,
    buffer_view_bytes,
    from_gltf_axes,
    quantize_positions,
    read_accessor,
    read_property_table,
)
from twin.errors import InvalidGeometry, StoreError
from twin.validate import validate_glb_extensions


def _decoded(glb: bytes) -> dict[str, Any]:
    """Positions (Z-up metres), normals, feature ids and triangles read back from a glb."""
    gltf, binary = read_glb(glb)
    node = gltf["nodes"][0]
    prims = gltf["meshes"][0]["primitives"]
    attrs = prims[0]["attributes"]
    q = read_accessor(gltf, binary, attrs["POSITION"]).astype(np.float64)
    positions = from_gltf_axes(q * np.array(node["scale"]) + np.array(node["translation"]))
    normals = from_gltf_axes(read_accessor(gltf, binary, attrs["NORMAL"]) / 127.0)
    fids = read_accessor(gltf, binary, attrs["_FEATURE_ID_0"]).astype(np.int64)
    tris = [read_accessor(gltf, binary, p["indices"]).reshape(-1, 3) for p in prims]
    return {"gltf": gltf, "binary": binary, "positions": positions, "normals": normals, "fids": fids, "tris": tris}


def _canonical(triangles: np.ndarray, keys: np.ndarray) -> set[tuple[Any, ...]]:
    """Triangles as rotation-invariant tuples of vertex keys (winding kept)."""
    out = set()
    for tri in keys[triangles]:
        corners = [tuple(c) for c in tri]
        k = corners.index(min(corners))
        out.add(tuple(corners[k:] + corners[:k]))
    return out


@pytest.mark.parametrize("compress", [True, False])
def test_round_trip_geometry_within_quantization(compress: bool) -> None:
    batch, table = box_tile(5, extent=120.0)
    out = _decoded(encode_glb(batch, table, compress=compress))
    scale = out["gltf"]["nodes"][0]["scale"][0]
    assert len(out["positions"]) == len(batch.positions)  # every vertex used, none added

    # Match each decoded vertex to the original with the same position and normal (boxes repeat corners).
    src = np.hstack([batch.positions, batch.normals])
    dst = np.hstack([out["positions"], out["normals"]])
    match = np.argmin(np.linalg.norm(dst[:, None, :] - src[None, :, :], axis=2), axis=1)
    assert len(set(match.tolist())) == len(batch.positions)
    error = np.abs(out["positions"] - batch.positions[match])
    assert error.max() <= scale / 2 * 1.001
    assert np.abs(out["normals"] - batch.normals[match]).max() < 0.02
    np.testing.assert_array_equal(out["fids"], batch.feature_ids[match])

    decoded_tris = np.concatenate(out["tris"])
    assert _canonical(match[decoded_tris], np.arange(len(match))[:, None]) == _canonical(
        batch.indices, np.arange(len(match))[:, None]
    )


@pytest.mark.parametrize("compress", [True, False])
def test_round_trip_properties(compress: bool) -> None:
    batch, table = box_tile(7)
    gltf, binary = read_glb(encode_glb(batch, table, compress=compress))
    columns = read_property_table(gltf, binary)
    for name, values in table.columns.items():
        spec = table.properties[name]
        expected = [spec.no_data if v is None else v for v in values]
        if spec.component_type == "FLOAT32":
            np.testing.assert_allclose(columns[name], expected, rtol=1e-6)
        else:
            assert columns[name] == expected, name
    # "name" is empty in every row: the column is left out of the table but still declared by the class.
    assert "name" not in gltf["extensions"]["EXT_structural_metadata"]["propertyTables"][0]["properties"]
    assert columns["name"] == [""] * 7


def test_khronos_validator_finds_no_errors(gltf_validator: Any) -> None:
    batch, table = box_tile(6)
    plain_batch, _ = box_tile(6, colors=False)
    n = len(batch.positions)
    vertex_colours = (np.arange(3 * n) % 251).astype(np.uint8).reshape(n, 3)  # COLOR_0, not a palette
    many = MeshBatch(batch.positions, batch.normals, batch.indices, batch.feature_ids, vertex_colours)
    glbs = [encode_glb(b, table, compress=c) for b in (batch, plain_batch, many) for c in (True, False)]
    for report in gltf_validator(glbs):
        assert report["numErrors"] == 0, report["messages"]
        assert report["numWarnings"] == 0, report["messages"]


def test_khronos_validator_catches_a_broken_accessor(gltf_validator: Any) -> None:
    # Guards the fixture itself: a wrong POSITION max in an uncompressed tile must be an error.
    batch, table = box_tile(2)
    gltf, binary = read_glb(encode_glb(batch, table, compress=False))
    gltf["accessors"][0]["max"] = [1, 1, 1]
    from twin.encode.glb import pack_glb

    (report,) = gltf_validator([pack_glb(gltf, binary)])
    assert report["numErrors"] > 0


def test_extension_json_validates_against_schemas() -> None:
    batch, table = box_tile(4)
    glb = encode_glb(batch, table)
    assert validate_glb_extensions(glb) == []

    gltf, binary = read_glb(glb)
    from twin.encode.glb import pack_glb

    prim = gltf["meshes"][0]["primitives"][0]
    prim["extensions"]["EXT_mesh_features"]["featureIds"][0]["featureCount"] = 0
    gltf["extensions"]["EXT_structural_metadata"]["propertyTables"][0]["count"] = "many"
    errors = validate_glb_extensions(pack_glb(gltf, binary))
    assert any("featureCount" in e for e in errors), errors
    assert any("propertyTables/0/count" in e for e in errors), errors


def test_palette_materials_split_roofs_from_walls() -> None:
    batch, table = box_tile(3)
    out = _decoded(encode_glb(batch, table))
    gltf = out["gltf"]
    assert "COLOR_0" not in gltf["meshes"][0]["primitives"][0]["attributes"]
    colours = [m["pbrMetallicRoughness"]["baseColorFactor"] for m in gltf["materials"]]
    assert len(colours) == 2
    for prim, tris in zip(gltf["meshes"][0]["primitives"], out["tris"], strict=True):
        up = out["normals"][tris.reshape(-1), 2] > 0.5
        assert up.all() or not up.any()  # roofs and walls never share a primitive
        srgb = np.array(ROOF_SRGB if up.all() else WALL_SRGB) / 255
        linear = ((srgb + 0.055) / 1.055) ** 2.4
        np.testing.assert_allclose(colours[prim["material"]], [*linear, 1.0], atol=1e-6)
        assert prim["extensions"]["EXT_mesh_features"]["featureIds"][0]["featureCount"] == 3


@pytest.mark.parametrize("case", ["gradient", "too many"])
def test_vertex_colours_when_a_palette_does_not_fit(case: str) -> None:
    batch, table = box_tile(2)
    if case == "gradient":  # corners of one triangle differ: a material per triangle cannot show that
        colors = np.repeat(np.arange(48, dtype=np.uint8)[:, None], 3, axis=1)
    else:  # one colour per face, 12 faces > MAX_PALETTE
        colors = np.repeat(np.arange(12, dtype=np.uint8) * 20, 4)[:, None].repeat(3, axis=1)
        assert MAX_PALETTE < 12
    glb = encode_glb(MeshBatch(batch.positions, batch.normals, batch.indices, batch.feature_ids, colors), table)
    gltf, binary = read_glb(glb)
    (prim,) = gltf["meshes"][0]["primitives"]
    assert gltf["materials"][0]["pbrMetallicRoughness"]["baseColorFactor"] == [1.0, 1.0, 1.0, 1.0]
    decoded = read_accessor(gltf, binary, prim["attributes"]["COLOR_0"])
    assert decoded.shape == (48, 3)
    # Stored linear: sRGB 220 -> 183, and the set of colours survives the vertex reordering.
    lut = np.round((((np.arange(256) / 255 + 0.055) / 1.055) ** 2.4) * 255)
    lut[:11] = np.round(np.arange(11) / 255 / 12.92 * 255)
    assert sorted(map(tuple, decoded.tolist())) == sorted(map(tuple, lut[colors].astype(int).tolist()))


def test_glb_container_and_meshopt_layout() -> None:
    batch, table = box_tile(3)
    glb = encode_glb(batch, table)
    magic, version, length = struct.unpack_from("<III", glb)
    assert (magic, version, length) == (0x46546C67, 2, len(glb))
    json_length = struct.unpack_from("<I", glb, 12)[0]
    assert json_length % 4 == 0 and len(glb) % 4 == 0
    gltf, binary = read_glb(glb)
    assert gltf["asset"] == {"version": "2.0", "generator": "urban-twin"}
    assert set(gltf["extensionsRequired"]) == {"KHR_mesh_quantization", "EXT_meshopt_compression"}
    fallback = gltf["buffers"][1]
    assert "uri" not in fallback and fallback["extensions"]["EXT_meshopt_compression"] == {"fallback": True}
    for view in gltf["bufferViews"]:
        ext = view.get("extensions", {}).get("EXT_meshopt_compression")
        if ext is None:
            assert view["buffer"] == 0
            continue
        assert view["buffer"] == 1 and ext["buffer"] == 0
        assert view.get("byteOffset", 0) + view["byteLength"] <= fallback["byteLength"]
        assert view["byteLength"] == ext["byteStride"] * ext["count"]
        assert ext.get("byteOffset", 0) % 4 == 0
        header = binary[ext.get("byteOffset", 0)]
        # EXT_meshopt_compression accepts vertex codec version 0 and index codec version 1 only.
        assert header == {"ATTRIBUTES": 0xA0, "TRIANGLES": 0xE1}[ext["mode"]]
        assert len(buffer_view_bytes(gltf, binary, gltf["bufferViews"].index(view))) == view["byteLength"]


def test_axes_conversion_and_quantization_precision() -> None:
    v = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(to_gltf_axes(v), [[1.0, 3.0, -2.0]])
    np.testing.assert_array_equal(from_gltf_axes(to_gltf_axes(v)), v)
    rng = np.random.default_rng(0)
    points = rng.uniform(-250, 250, (1000, 3)) * [1, 1, 0.2]
    q, t, s = quantize_positions(points)
    assert s <= 500 / 65534 * 1.01  # 7.6 mm steps for a 500 m tile
    assert np.abs(q * s + t - points).max() <= s / 2 * 1.001
    assert q.dtype == np.int16


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"positions": np.zeros((24, 2))}, "positions"),
        ({"indices": np.array([[0, 1, 99]])}, "indices"),
        ({"normals": np.zeros((24, 3))}, "normals"),
        ({"feature_ids": np.full(24, 5)}, "feature_ids"),
        ({"colors": np.zeros((24, 3), dtype=np.int64)}, "colors"),
    ],
)
def test_bad_arrays_raise_invalid_geometry(change: dict[str, Any], message: str) -> None:
    batch, table = box_tile(1)
    fields = {k: getattr(batch, k) for k in ("positions", "normals", "indices", "feature_ids", "colors")}
    with pytest.raises(InvalidGeometry, match=message):
        encode_glb(MeshBatch(**{**fields, **change}), table)


def test_nan_positions_raise() -> None:
    batch, table = box_tile(1)
    positions = batch.positions.copy()
    positions[3, 1] = np.nan
    with pytest.raises(InvalidGeometry, match="NaN"):
        encode_glb(MeshBatch(positions, batch.normals, batch.indices, batch.feature_ids), table)


def test_read_glb_rejects_other_bytes() -> None:
    with pytest.raises(StoreError, match="not a glb"):
        read_glb(b"PK\x03\x04" + b"\0" * 40)
    glb = encode_glb(*box_tile(1))
    with pytest.raises(StoreError, match="header says"):
        read_glb(glb[:-4])


def test_size_budget_for_a_thousand_boxes() -> None:
    # Regression guard for the measured size: about 163 bytes per 24-vertex box with a full metadata row
    # (source, roof_shape and usage as per-tile enums; 178 with them as strings). Fails if a change makes
    # tiles noticeably bigger.
    batch, table = box_tile(1000)
    compressed = len(encode_glb(batch, table))
    plain = len(encode_glb(batch, table, compress=False))
    assert compressed / 1000 < 170
    assert compressed < 0.4 * plain


def test_single_row_table_and_unicode_strings() -> None:
    batch, _ = box_tile(1)
    table = building_table([{"id": "way/1", "source": "osm", "height": 9.5, "name": "Café Zürich ✓"}])
    gltf, binary = read_glb(encode_glb(batch, table))
    columns = read_property_table(gltf, binary)
    assert columns["name"] == ["Café Zürich ✓"]
    assert columns["levels"] == [-1]
    assert json.loads(json.dumps(gltf))  # plain JSON
