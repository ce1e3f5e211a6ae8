"""One tile's buildings as a binary glTF (glb): Draco-compressed geometry with per-building metadata.

Layout of what :func:`encode_glb` writes (one node, one mesh, one primitive, one material):

- Geometry in KHR_draco_mesh_compression (``compress=True``, the default): ``POSITION`` (FLOAT VEC3,
  metres relative to the node's ``translation``, the tile centre), ``NORMAL`` (FLOAT VEC3),
  ``_FEATURE_ID_0`` (UNSIGNED_SHORT; FLOAT above 65536 rows) and optionally ``COLOR_0`` (UNSIGNED_BYTE
  normalized VEC3, linear as glTF requires) and optionally ``TEXCOORD_0`` (FLOAT VEC2, facade coordinates
  in metres: along the wall and up, see :class:`twin.mesh.model.Mesh`) in one Draco stream per primitive.
  Draco quantises positions to :data:`POSITION_STEP` (1 cm steps, so every vertex is within 5 mm,
  whatever the tile's size), facade coordinates to :data:`UV_STEP` and normals to 8-bit octahedral codes,
  and predicts each vertex from its neighbours along the mesh.
- Uncompressed (``compress=False``, for debugging and for tools without a Draco decoder): ``POSITION``
  SHORT VEC3 with the node's uniform ``scale`` (KHR_mesh_quantization: steps of the largest side / 65534),
  ``NORMAL`` BYTE normalized VEC3, ``_FEATURE_ID_0``, ``COLOR_0`` as above and ``TEXCOORD_0`` FLOAT VEC2,
  every attribute on a 4-byte stride, indices UNSIGNED_SHORT or UNSIGNED_INT.
- ``EXT_mesh_features`` on the primitive (feature ID attribute 0 -> property table 0) and
  ``EXT_structural_metadata`` at glTF level (:mod:`twin.encode.metadata`); the table's columns are plain
  bufferViews in the binary chunk.

Colours (walls vs roofs) are vertex colours on a white material: in a Draco stream they cost about 6 bytes
per box building, while a primitive per colour (two Draco streams) cost 14.

Why Draco and not meshopt (measured on a 395-building tile of the 100k benchmark, ``bench/README.md``):
meshopt's vertex codec stores byte deltas between consecutive vertices and is meant to be followed by
gzip; with KHR_mesh_quantization it took 136 bytes per box building for positions (92: 20 vertices at
4.6 bytes), normals, feature ids and indices. Draco shares the corners that walls and roofs have in
common, predicts positions by parallelograms and entropy-codes the rest: 52 bytes for the same, colours
included. Every client we target decodes it (three.js with DRACOLoader, CesiumJS, cesium-native).

twin is Z-up; glTF is Y-up. :func:`to_gltf_axes` is the only place that converts.

Measured (1000 synthetic box buildings of 24 vertices / 12 triangles with a full metadata row,
``tests/encode/glb_boxes.py``): 72 bytes per building with Draco, 602 uncompressed; most of what is not
geometry is metadata (ids, addresses and names are UTF-8 text).
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import DracoPy
import numpy as np

from twin.encode.metadata import PropertyTable, decode_property_table, encode_property_table
from twin.errors import InvalidGeometry, StoreError

GENERATOR = "urban-twin"

# glTF enums
_BYTE, _UNSIGNED_BYTE, _SHORT, _UNSIGNED_SHORT, _UNSIGNED_INT, _FLOAT = 5120, 5121, 5122, 5123, 5125, 5126
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_COMPONENT_DTYPES: dict[int, np.dtype[Any]] = {
    _BYTE: np.dtype("<i1"),
    _UNSIGNED_BYTE: np.dtype("<u1"),
    _SHORT: np.dtype("<i2"),
    _UNSIGNED_SHORT: np.dtype("<u2"),
    _UNSIGNED_INT: np.dtype("<u4"),
    _FLOAT: np.dtype("<f4"),
}
_TYPE_SIZES = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}

_GLB_MAGIC, _CHUNK_JSON, _CHUNK_BIN = 0x46546C67, 0x4E4F534A, 0x004E4942

#: Largest quantized coordinate of the uncompressed layout: positions span [-Q, Q] along the longest side.
_Q = 32767

#: Draco's position step (metres): every vertex lands within half of it of where the mesher put it.
POSITION_STEP = 0.01
#: Draco's step for facade coordinates (metres): window edges within 2.5 cm of the storey grid.
UV_STEP = 0.05
#: Draco's octahedral normal precision in bits (about 1° between neighbouring codes).
NORMAL_BITS = 8
#: Draco compression level 0–10; 10 is the slowest and smallest (about 11 ms for a 400-building tile).
DRACO_LEVEL = 10
#: Draco attribute types (draco::GeometryAttribute::Type) and the glTF attribute each one carries here.
_DRACO_ATTRIBUTES = {0: "POSITION", 1: "NORMAL", 2: "COLOR_0", 3: "TEXCOORD_0", 4: "_FEATURE_ID_0"}

#: Default material colour (linear RGB): light grey, used when the batch has no vertex colours.
_DEFAULT_COLOR = (0.6, 0.6, 0.6, 1.0)


@dataclass(frozen=True)
class MeshBatch:
    """One tile's triangles, Z-up metres relative to the tile centre.

    positions : (n, 3) float32/float64
    normals : (n, 3) float unit vectors (renormalised here; zero-length ones are an error)
    indices : (m, 3) integer, counter-clockwise seen from outside
    feature_ids : (n,) integer, the property table row of each vertex
    colors : (n, 3) uint8 sRGB vertex colours (e.g. walls vs roofs), or ``None`` for one material colour
    uvs : (n, 2) float facade coordinates in metres (``TEXCOORD_0``), or ``None`` for none
    """

    positions: np.ndarray
    normals: np.ndarray
    indices: np.ndarray
    feature_ids: np.ndarray
    colors: np.ndarray | None = None
    uvs: np.ndarray | None = None


def to_gltf_axes(v: np.ndarray) -> np.ndarray:
    """Z-up (x east, y north, z up) to glTF's Y-up: (x, y, z) -> (x, z, -y). (n, 3) -> (n, 3)."""
    v = np.asarray(v)
    return np.stack([v[:, 0], v[:, 2], -v[:, 1]], axis=1)


def from_gltf_axes(v: np.ndarray) -> np.ndarray:
    """The inverse of :func:`to_gltf_axes`: (x, y, z) Y-up -> (x, -z, y) Z-up. (n, 3) -> (n, 3)."""
    v = np.asarray(v)
    return np.stack([v[:, 0], -v[:, 2], v[:, 1]], axis=1)


def _srgb_to_linear_float(colors: np.ndarray) -> np.ndarray:
    """sRGB uint8 (..., 3) -> linear float64 in [0, 1] (glTF colours and factors are linear)."""
    c = np.asarray(colors) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _srgb_to_linear_u8(colors: np.ndarray) -> np.ndarray:
    return np.round(_srgb_to_linear_float(colors) * 255.0).astype(np.uint8)


def _checked(
    batch: MeshBatch, rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Coerce and check the batch's arrays; raise InvalidGeometry naming the broken one."""
    positions = np.asarray(batch.positions, dtype=np.float64)
    normals = np.asarray(batch.normals, dtype=np.float64)
    indices = np.asarray(batch.indices)
    feature_ids = np.asarray(batch.feature_ids)
    n = len(positions)
    if positions.ndim != 2 or positions.shape[1] != 3 or n == 0:
        raise InvalidGeometry(f"positions must be (n, 3) with n > 0, got {positions.shape}")
    if not np.all(np.isfinite(positions)):
        raise InvalidGeometry("positions contain NaN or infinity")
    if normals.shape != (n, 3):
        raise InvalidGeometry(f"normals must be ({n}, 3), got {normals.shape}")
    if indices.ndim != 2 or indices.shape[1] != 3 or len(indices) == 0 or indices.dtype.kind not in "iu":
        raise InvalidGeometry(f"indices must be (m, 3) integers with m > 0, got {indices.shape} {indices.dtype}")
    if indices.min() < 0 or indices.max() >= n:
        raise InvalidGeometry(f"indices must lie in [0, {n}), got [{indices.min()}, {indices.max()}]")
    if feature_ids.shape != (n,) or feature_ids.dtype.kind not in "iu":
        raise InvalidGeometry(f"feature_ids must be ({n},) integers, got {feature_ids.shape} {feature_ids.dtype}")
    if feature_ids.min() < 0 or feature_ids.max() >= rows:
        raise InvalidGeometry(f"feature_ids must lie in [0, {rows}) (the property table rows)")
    length = np.linalg.norm(normals, axis=1)
    bad = ~(np.isfinite(length) & (length > 1e-12))
    if bad.any():
        raise InvalidGeometry(f"{int(bad.sum())} normals are zero or not finite")
    colors = None
    if batch.colors is not None:
        colors = np.asarray(batch.colors)
        if colors.shape != (n, 3) or colors.dtype != np.uint8:
            raise InvalidGeometry(f"colors must be ({n}, 3) uint8, got {colors.shape} {colors.dtype}")
    uvs = None
    if batch.uvs is not None:
        uvs = np.asarray(batch.uvs, dtype=np.float64)
        if uvs.shape != (n, 2) or not np.all(np.isfinite(uvs)):
            raise InvalidGeometry(f"uvs must be ({n}, 2) finite numbers, got {uvs.shape}")
    return (
        positions,
        normals / length[:, None],
        indices.astype(np.uint32),
        feature_ids.astype(np.int64),
        colors,
        uvs,
    )


def quantize_positions(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Positions (n, 3) float -> (n, 3) int16, translation (3,) and uniform scale with p ≈ q * scale + t.

    The scale is uniform so the node transform leaves normals' directions alone.
    """
    lo, hi = positions.min(axis=0), positions.max(axis=0)
    centre = (lo + hi) / 2.0
    extent = float((hi - lo).max())
    scale = extent / (2 * _Q) if extent > 0 else 1.0
    q = np.clip(np.round((positions - centre) / scale), -_Q, _Q).astype(np.int16)
    return q, centre, scale


class _Buffers:
    """Collects bufferViews in the glb's one buffer (the binary chunk), each aligned to 8 bytes so FLOAT64
    and INT64 property columns are aligned (EXT_structural_metadata's note)."""

    def __init__(self) -> None:
        self.views: list[dict[str, Any]] = []
        self.data = bytearray()

    def add(self, raw: bytes, *, stride: int | None = None, target: int | None = None) -> int:
        """Store one bufferView and return its index (``stride``: byteStride of a vertex attribute)."""
        start = (len(self.data) + 7) // 8 * 8
        self.data.extend(b"\0" * (start - len(self.data)) + raw)
        view: dict[str, Any] = {"buffer": 0, "byteLength": len(raw)}
        if start:
            view["byteOffset"] = start
        if stride is not None:
            view["byteStride"] = stride
        if target is not None:
            view["target"] = target
        self.views.append(view)
        return len(self.views) - 1

    def add_table_view(self, data: bytes, component_size: int) -> int:
        """A property table column (the metadata encoder's callback; every view is 8-byte aligned)."""
        return self.add(data)

    def add_attribute(self, rows: np.ndarray) -> int:
        """A vertex attribute view from (n, k) rows whose byte width is a multiple of 4."""
        rows = np.ascontiguousarray(rows)
        return self.add(rows.tobytes(), stride=rows.nbytes // len(rows), target=_ARRAY_BUFFER)

    def buffers(self) -> list[dict[str, Any]]:
        """The glTF ``buffers`` array: the GLB binary chunk."""
        return [{"byteLength": (len(self.data) + 3) // 4 * 4}]


def _padded(rows: np.ndarray, width: int) -> np.ndarray:
    """(n, k) -> (n, width) of the same dtype, zero-filled: vertex attributes need 4-byte element strides."""
    out = np.zeros((len(rows), width), dtype=rows.dtype)
    out[:, : rows.shape[1]] = rows
    return out


class _Accessors:
    """The glTF ``accessors`` array being built."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, component: int, type_: str, count: int, view: int | None = None, **extra: Any) -> int:
        acc: dict[str, Any] = {"componentType": component, "count": count, "type": type_, **extra}
        if view is not None:
            acc["bufferView"] = view
        self.items.append(acc)
        return len(self.items) - 1


class _Geometry(NamedTuple):
    """A checked batch in glTF axes: what a primitive encoder needs (``rows``: the property table's)."""

    positions: np.ndarray
    normals: np.ndarray
    indices: np.ndarray
    fids: np.ndarray
    colors: np.ndarray | None
    rows: int
    uvs: np.ndarray | None = None


def _feature_id_rows(fids: np.ndarray, rows: int) -> tuple[np.ndarray, int]:
    """Feature ids as stored and their component type: UNSIGNED_SHORT up to 65536 rows, FLOAT above
    (glTF has no 32-bit integer vertex attributes; float32 holds integers exactly up to 2^24)."""
    if rows <= 65536:
        return fids.astype(np.uint16)[:, None], _UNSIGNED_SHORT
    return fids.astype(np.float32)[:, None], _FLOAT


def _raw_primitive(
    t: _Geometry, buffers: _Buffers, accessors: _Accessors
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """Uncompressed primitive (KHR_mesh_quantization positions), its node and its number of features."""
    positions, normals, indices, fids, colors, rows, uvs = t
    q, centre, scale = quantize_positions(positions)
    attributes = {
        "POSITION": accessors.add(
            _SHORT,
            "VEC3",
            len(q),
            buffers.add_attribute(_padded(q, 4)),
            min=q.min(axis=0).tolist(),
            max=q.max(axis=0).tolist(),
        ),
        "NORMAL": accessors.add(
            _BYTE,
            "VEC3",
            len(q),
            buffers.add_attribute(_padded(np.round(normals * 127).astype(np.int8), 4)),
            normalized=True,
        ),
    }
    fid_rows, fid_component = _feature_id_rows(fids, rows)
    if fid_component == _UNSIGNED_SHORT:
        fid_rows = _padded(fid_rows, 2)
    attributes["_FEATURE_ID_0"] = accessors.add(fid_component, "SCALAR", len(q), buffers.add_attribute(fid_rows))
    if colors is not None:
        view = buffers.add_attribute(_padded(colors, 4))
        attributes["COLOR_0"] = accessors.add(_UNSIGNED_BYTE, "VEC3", len(q), view, normalized=True)
    if uvs is not None:
        view = buffers.add_attribute(uvs.astype(np.float32))
        attributes["TEXCOORD_0"] = accessors.add(_FLOAT, "VEC2", len(q), view)
    component = _UNSIGNED_SHORT if len(q) <= 65536 else _UNSIGNED_INT
    flat = indices.reshape(-1).astype(_COMPONENT_DTYPES[component])
    view = buffers.add(flat.tobytes(), target=_ELEMENT_ARRAY_BUFFER)
    primitive = {"attributes": attributes, "indices": accessors.add(component, "SCALAR", len(flat), view)}
    used = np.unique(fids[np.unique(indices)])
    return primitive, {"mesh": 0, "translation": centre.tolist(), "scale": [scale] * 3}, len(used)


def position_bits(extent: float, step: float = POSITION_STEP) -> int:
    """Draco quantisation bits so ``extent`` metres are cut into steps of at most ``step``."""
    return min(30, max(1, math.ceil(math.log2(extent / step + 1))))


def _uv_options(uvs: np.ndarray | None) -> dict[str, Any]:
    """DracoPy's texture coordinate arguments: the coordinates and bits for steps of :data:`UV_STEP`."""
    if uvs is None:
        return {}
    extent = float((uvs.max(axis=0) - uvs.min(axis=0)).max())
    return {"tex_coord": uvs, "tex_coord_quantization_bits": position_bits(max(extent, UV_STEP), UV_STEP)}


def _draco_primitive(
    t: _Geometry, buffers: _Buffers, accessors: _Accessors
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """KHR_draco_mesh_compression primitive, its node and its number of features.

    The stream is decoded once after encoding: Draco chooses the vertex count (it shares corners and splits
    others) and the attributes' unique ids, and the accessors must state both, plus the decoded
    positions' bounds.
    """
    positions, normals, indices, fids, colors, rows, uvs = t
    lo, hi = positions.min(axis=0), positions.max(axis=0)
    centre = (lo + hi) / 2.0
    local = positions - centre
    fid_rows, fid_component = _feature_id_rows(fids, rows)
    stream = DracoPy.encode(
        local,
        indices,
        quantization_bits=position_bits(float((hi - lo).max())),
        compression_level=DRACO_LEVEL,
        normals=normals,
        normal_quantization_bits=NORMAL_BITS,
        colors=colors,
        generic_attributes={0: fid_rows},
        **_uv_options(uvs),
    )
    decoded = DracoPy.decode(stream)
    ids = {_DRACO_ATTRIBUTES[a["attribute_type"]]: int(a["unique_id"]) for a in decoded.attributes}
    points = np.asarray(decoded.points, dtype=np.float32)
    count = len(points)
    attributes = {
        "POSITION": accessors.add(
            _FLOAT, "VEC3", count, min=points.min(axis=0).tolist(), max=points.max(axis=0).tolist()
        ),
        "NORMAL": accessors.add(_FLOAT, "VEC3", count),
        "_FEATURE_ID_0": accessors.add(fid_component, "SCALAR", count),
    }
    if colors is not None:
        attributes["COLOR_0"] = accessors.add(_UNSIGNED_BYTE, "VEC3", count, normalized=True)
    if uvs is not None:
        attributes["TEXCOORD_0"] = accessors.add(_FLOAT, "VEC2", count)
    component = _UNSIGNED_SHORT if count <= 65536 else _UNSIGNED_INT
    primitive = {
        "attributes": attributes,
        "indices": accessors.add(component, "SCALAR", 3 * len(decoded.faces)),
        "extensions": {
            "KHR_draco_mesh_compression": {
                "bufferView": buffers.add(stream),
                "attributes": {name: ids[name] for name in attributes},
            }
        },
    }
    used = np.unique(np.asarray(decoded.get_attribute_by_unique_id(ids["_FEATURE_ID_0"])["data"]))
    return primitive, {"mesh": 0, "translation": centre.tolist()}, len(used)


def encode_glb(batch: MeshBatch, table: PropertyTable, *, compress: bool = True) -> bytes:
    """One tile as glb bytes: geometry of ``batch`` with one feature per row of ``table``.

    ``compress`` chooses Draco geometry (the default) or the uncompressed quantized layout.
    Raises InvalidGeometry for malformed arrays and BuildError for an inconsistent table.
    """
    positions, normals, indices, feature_ids, colors, uvs = _checked(batch, table.count)
    linear = None if colors is None else _srgb_to_linear_u8(colors)
    buffers, accessors = _Buffers(), _Accessors()
    encode = _draco_primitive if compress else _raw_primitive
    geometry = _Geometry(to_gltf_axes(positions), to_gltf_axes(normals), indices, feature_ids, linear, table.count, uvs)
    primitive, node, feature_count = encode(geometry, buffers, accessors)
    primitive["material"] = 0
    primitive.setdefault("extensions", {})["EXT_mesh_features"] = {
        "featureIds": [{"featureCount": feature_count, "attribute": 0, "propertyTable": 0}]
    }
    metadata = encode_property_table(table, buffers.add_table_view)
    codec = "KHR_draco_mesh_compression" if compress else "KHR_mesh_quantization"
    gltf: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": GENERATOR},
        "extensionsUsed": [codec, "EXT_mesh_features", "EXT_structural_metadata"],
        "extensionsRequired": [codec],
        "extensions": {"EXT_structural_metadata": metadata},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [node],
        "meshes": [{"primitives": [primitive]}],
        "materials": [_material([1.0, 1.0, 1.0, 1.0] if colors is not None else list(_DEFAULT_COLOR))],
        "accessors": accessors.items,
        "bufferViews": buffers.views,
        "buffers": buffers.buffers(),
    }
    return pack_glb(gltf, bytes(buffers.data))


def _material(rgba: list[float]) -> dict[str, Any]:
    return {"pbrMetallicRoughness": {"baseColorFactor": rgba, "metallicFactor": 0.0, "roughnessFactor": 0.9}}


def pack_glb(gltf: Mapping[str, Any], binary: bytes) -> bytes:
    """A glb container: 12-byte header, JSON chunk padded with spaces, BIN chunk padded with zeros."""
    text = json.dumps(gltf, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 4)
    binary = binary + b"\0" * (-len(binary) % 4)
    length = 12 + 8 + len(text) + (8 + len(binary) if binary else 0)
    out = bytearray(struct.pack("<III", _GLB_MAGIC, 2, length))
    out += struct.pack("<II", len(text), _CHUNK_JSON) + text
    if binary:
        out += struct.pack("<II", len(binary), _CHUNK_BIN) + binary
    return bytes(out)


def read_glb(glb: bytes) -> tuple[dict[str, Any], bytes]:
    """The JSON and the binary chunk of a glb (``b""`` when it has none). Raises StoreError if malformed."""
    if len(glb) < 20:
        raise StoreError(f"not a glb: {len(glb)} bytes")
    magic, version, length = struct.unpack_from("<III", glb, 0)
    if magic != _GLB_MAGIC or version != 2:
        raise StoreError(f"not a glb 2.0 file (magic {magic:#x}, version {version})")
    if length != len(glb):
        raise StoreError(f"glb header says {length} bytes, file has {len(glb)}")
    json_length, kind = struct.unpack_from("<II", glb, 12)
    if kind != _CHUNK_JSON or 20 + json_length > length:
        raise StoreError("glb: first chunk is not a JSON chunk")
    try:
        gltf = json.loads(glb[20 : 20 + json_length].decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise StoreError(f"glb: the JSON chunk is not JSON: {exc}") from None
    if not isinstance(gltf, dict):
        raise StoreError("glb: the JSON chunk is not an object")
    binary = b""
    offset = 20 + json_length
    if offset + 8 <= length:
        bin_length, kind = struct.unpack_from("<II", glb, offset)
        if kind != _CHUNK_BIN or offset + 8 + bin_length > length:
            raise StoreError("glb: second chunk is not a BIN chunk")
        binary = glb[offset + 8 : offset + 8 + bin_length]
    return gltf, binary


def buffer_view_bytes(gltf: Mapping[str, Any], binary: bytes, index: int) -> bytes:
    """The contents of bufferView ``index`` of a glb from :func:`read_glb` (views in the binary chunk)."""
    view = gltf["bufferViews"][index]
    if view["buffer"] != 0 or "uri" in gltf["buffers"][0]:
        raise StoreError(f"bufferView {index} is not in the glb binary chunk")
    start = view.get("byteOffset", 0)
    return binary[start : start + view["byteLength"]]


def read_accessor(gltf: Mapping[str, Any], binary: bytes, index: int) -> np.ndarray:
    """Accessor ``index`` (one with a bufferView) as an array of its component type: (count,) for SCALAR,
    else (count, k). Draco-compressed attributes have no bufferView: read them with :func:`read_primitive`."""
    acc = gltf["accessors"][index]
    if "bufferView" not in acc:
        raise StoreError(f"accessor {index} has no bufferView (Draco-compressed?)")
    view = gltf["bufferViews"][acc["bufferView"]]
    data = buffer_view_bytes(gltf, binary, acc["bufferView"])
    dtype = _COMPONENT_DTYPES[acc["componentType"]]
    k = _TYPE_SIZES[acc["type"]]
    stride = view.get("byteStride", k * dtype.itemsize)
    start = acc.get("byteOffset", 0)
    raw = np.frombuffer(data, dtype=np.uint8)[start : start + stride * acc["count"]].reshape(acc["count"], stride)
    values = np.ascontiguousarray(raw[:, : k * dtype.itemsize]).view(dtype)
    return values[:, 0] if acc["type"] == "SCALAR" else values


def read_primitive(gltf: Mapping[str, Any], binary: bytes, primitive: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """A primitive's attributes by glTF name, in their accessors' component types and in the mesh's own
    space (the node transform not applied), plus ``"indices"`` as (m, 3); Draco streams decoded."""
    draco = primitive.get("extensions", {}).get("KHR_draco_mesh_compression")
    if draco is None:
        out = {name: read_accessor(gltf, binary, i) for name, i in primitive["attributes"].items()}
        out["indices"] = read_accessor(gltf, binary, primitive["indices"]).reshape(-1, 3)
        return out
    mesh = DracoPy.decode(buffer_view_bytes(gltf, binary, draco["bufferView"]))
    by_id = {int(a["unique_id"]): np.asarray(a["data"]) for a in mesh.attributes}
    out = {}
    for name, index in primitive["attributes"].items():
        acc = gltf["accessors"][index]
        values = by_id[draco["attributes"][name]].astype(_COMPONENT_DTYPES[acc["componentType"]])
        out[name] = values[:, 0] if acc["type"] == "SCALAR" else values
    out["indices"] = np.asarray(mesh.faces, dtype=np.int64).reshape(-1, 3)
    return out


def read_property_table(gltf: Mapping[str, Any], binary: bytes) -> dict[str, list[Any]]:
    """The first EXT_structural_metadata property table of a glb's JSON and binary chunk, as columns."""
    return decode_property_table(
        gltf["extensions"]["EXT_structural_metadata"], lambda i: buffer_view_bytes(gltf, binary, i)
    )
