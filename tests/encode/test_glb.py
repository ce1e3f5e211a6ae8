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
    POSITION_STEP,
    from_gltf_axes,
    position_bits,
    quantize_positions,
    read_accessor,
    read_primitive,
    read_property_table,
)
from twin.errors import InvalidGeometry, StoreError
from twin.validate import validate_glb_extensions


def _decoded(glb: bytes) -> dict[str, Any]:
    """Positions (Z-up metres), normals, feature ids and triangles read back from a glb."""
    gltf, binary = read_glb(glb)
    node = gltf["nodes"][0]
    (prim,) = gltf["meshes"][0]["primitives"]
    arrays = read_primitive(gltf, binary, prim)
    q = arrays["POSITION"].astype(np.float64)
    positions = from_gltf_axes(q * np.array(node.get("scale", [1, 1, 1])) + np.array(node["translation"]))
    normals = arrays["NORMAL"].astype(np.float64)
    normals = from_gltf_axes(normals / 127.0 if arrays["NORMAL"].dtype == np.int8 else normals)
    fids = arrays["_FEATURE_ID_0"].astype(np.int64)
    return {
        "gltf": gltf,
        "binary": binary,
        "positions": positions,
        "normals": normals,
        "fids": fids,
        "tris": arrays["indices"],
        "arrays": arrays,
    }


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
    # Uncompressed: 16-bit steps over the tile. Draco: steps of at most POSITION_STEP.
    step = POSITION_STEP if compress else out["gltf"]["nodes"][0]["scale"][0]
    if not compress:
        assert len(out["positions"]) == len(batch.positions)  # every vertex used, none added

    # Match each decoded vertex to the original with the same position and normal (boxes repeat corners;
    # Draco may share or split vertices, so the match is many-to-one but must cover every original).
    src = np.hstack([batch.positions, batch.normals])
    dst = np.hstack([out["positions"], out["normals"]])
    match = np.argmin(np.linalg.norm(dst[:, None, :] - src[None, :, :], axis=2), axis=1)
    error = np.abs(out["positions"] - batch.positions[match])
    assert error.max() <= step / 2 * 1.001
    assert np.abs(out["normals"] - batch.normals[match]).max() < 0.02
    np.testing.assert_array_equal(out["fids"], batch.feature_ids[match])

    # The same triangles with the same winding, none lost or added.
    decoded = _canonical(match[out["tris"]], np.arange(len(batch.positions))[:, None])
    original = _canonical(batch.indices, np.arange(len(batch.positions))[:, None])
    assert decoded == original
    assert len(out["tris"]) == len(batch.indices)


def test_draco_precision_does_not_depend_on_the_tile_size() -> None:
    assert position_bits(120.0) == 14  # 120 m in 1 cm steps: 12,000 steps < 2^14
    assert position_bits(1000.0) == 17
    assert position_bits(4000.0) == 19
    batch, table = box_tile(50, extent=3000.0)
    out = _decoded(encode_glb(batch, table))
    src = np.hstack([batch.positions, batch.normals])
    dst = np.hstack([out["positions"], out["normals"]])
    match = np.argmin(np.linalg.norm(dst[:, None, :] - src[None, :, :], axis=2), axis=1)
    assert np.abs(out["positions"] - batch.positions[match]).max() <= POSITION_STEP / 2 * 1.001


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
    # "name" is empty in every row: written all noData anyway (3d-tiles-validator needs every class property).
    assert "name" in gltf["extensions"]["EXT_structural_metadata"]["propertyTables"][0]["properties"]
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


@pytest.mark.parametrize("compress", [True, False])
def test_colours_are_linear_vertex_colours_on_a_white_material(compress: bool) -> None:
    batch, table = box_tile(3)
    out = _decoded(encode_glb(batch, table, compress=compress))
    gltf = out["gltf"]
    assert gltf["materials"][0]["pbrMetallicRoughness"]["baseColorFactor"] == [1.0, 1.0, 1.0, 1.0]
    decoded = out["arrays"]["COLOR_0"]
    assert decoded.dtype == np.uint8 and decoded.shape == (len(out["positions"]), 3)
    # Stored linear: roofs and walls keep their sRGB colours through the conversion.
    up = out["normals"][:, 2] > 0.5
    for mask, srgb in ((up, ROOF_SRGB), (~up, WALL_SRGB)):
        linear = np.round((((np.array(srgb) / 255 + 0.055) / 1.055) ** 2.4) * 255)
        np.testing.assert_array_equal(decoded[mask], np.broadcast_to(linear, decoded[mask].shape))
    prim = gltf["meshes"][0]["primitives"][0]
    assert prim["extensions"]["EXT_mesh_features"]["featureIds"][0]["featureCount"] == 3


def test_no_colours_give_a_grey_material() -> None:
    batch, table = box_tile(2, colors=False)
    gltf, _ = read_glb(encode_glb(batch, table))
    assert "COLOR_0" not in gltf["meshes"][0]["primitives"][0]["attributes"]
    assert gltf["materials"][0]["pbrMetallicRoughness"]["baseColorFactor"] == [0.6, 0.6, 0.6, 1.0]


def test_glb_container_and_draco_layout() -> None:
    batch, table = box_tile(3)
    glb = encode_glb(batch, table)
    magic, version, length = struct.unpack_from("<III", glb)
    assert (magic, version, length) == (0x46546C67, 2, len(glb))
    json_length = struct.unpack_from("<I", glb, 12)[0]
    assert json_length % 4 == 0 and len(glb) % 4 == 0
    gltf, binary = read_glb(glb)
    assert gltf["asset"] == {"version": "2.0", "generator": "urban-twin"}
    assert gltf["extensionsRequired"] == ["KHR_draco_mesh_compression"]
    assert len(gltf["buffers"]) == 1 and "uri" not in gltf["buffers"][0]
    (prim,) = gltf["meshes"][0]["primitives"]
    draco = prim["extensions"]["KHR_draco_mesh_compression"]
    assert set(draco["attributes"]) == set(prim["attributes"]) == {"POSITION", "NORMAL", "_FEATURE_ID_0", "COLOR_0"}
    assert len(set(draco["attributes"].values())) == 4
    stream = gltf["bufferViews"][draco["bufferView"]]
    assert binary[stream.get("byteOffset", 0) : stream.get("byteOffset", 0) + 5] == b"DRACO"
    for index in [*prim["attributes"].values(), prim["indices"]]:
        assert "bufferView" not in gltf["accessors"][index]  # Draco's: the decoder fills them
    arrays = read_primitive(gltf, binary, prim)
    pos = gltf["accessors"][prim["attributes"]["POSITION"]]
    np.testing.assert_array_equal(pos["min"], arrays["POSITION"].min(axis=0))
    np.testing.assert_array_equal(pos["max"], arrays["POSITION"].max(axis=0))
    assert pos["count"] == len(arrays["POSITION"])
    assert gltf["accessors"][prim["indices"]]["count"] == arrays["indices"].size
    with pytest.raises(StoreError, match="no bufferView"):
        read_accessor(gltf, binary, prim["attributes"]["POSITION"])


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
    # Regression guard for the measured size: about 72 bytes per 24-vertex box with a full metadata row
    # (source, roof_shape and usage as per-tile enums). Fails if a change makes tiles noticeably bigger.
    batch, table = box_tile(1000)
    compressed = len(encode_glb(batch, table))
    plain = len(encode_glb(batch, table, compress=False))
    assert compressed / 1000 < 80
    assert compressed < 0.25 * plain


def test_single_row_table_and_unicode_strings() -> None:
    batch, _ = box_tile(1)
    table = building_table([{"id": "way/1", "source": "osm", "height": 9.5, "name": "Café Zürich ✓"}])
    gltf, binary = read_glb(encode_glb(batch, table))
    columns = read_property_table(gltf, binary)
    assert columns["name"] == ["Café Zürich ✓"]
    assert columns["levels"] == [-1]
    assert json.loads(json.dumps(gltf))  # plain JSON
