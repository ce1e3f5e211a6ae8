"""One tile's buildings as a binary glTF (glb): quantized, meshopt-compressed, with per-building metadata.

Layout of what :func:`encode_glb` writes (one node, one mesh, one primitive, one material):

- ``POSITION``: SHORT VEC3, not normalized, 8-byte stride (KHR_mesh_quantization). The node's uniform
  ``scale`` and ``translation`` turn the integers back into metres, so the decoded tile is in the tile's
  frame. The step is the largest bounding-box side / 65534: 1.5 mm for a 100 m tile, 7.6 mm for 500 m,
  and the error is at most half a step.
- ``NORMAL``: BYTE normalized VEC3, 4-byte stride; compressed with meshopt's octahedral filter (8 bits).
- ``_FEATURE_ID_0``: UNSIGNED_SHORT (FLOAT above 65535 features; glTF has no 32-bit integer attributes),
  4-byte stride because every vertex attribute element must start on a 4-byte boundary.
- ``COLOR_0`` (optional): UNSIGNED_BYTE normalized VEC3, 4-byte stride, linear as glTF requires (the
  batch gives sRGB; one lookup table converts).
- indices: UNSIGNED_SHORT below 65536 vertices, else UNSIGNED_INT; triangle and vertex order optimised by
  meshopt for the GPU's caches and for compression.
- ``EXT_mesh_features`` on the primitive (feature ID attribute 0 -> property table 0) and
  ``EXT_structural_metadata`` at glTF level (:mod:`twin.encode.metadata`).

With ``compress=True`` every bufferView is stored with EXT_meshopt_compression in the GLB binary chunk
(buffer 0). The views themselves point into buffer 1, a placeholder without data marked
``fallback: true``, so the extension is required: every client we target (three.js with MeshoptDecoder,
CesiumJS, cesium-native) decodes it.

twin is Z-up; glTF is Y-up. :func:`to_gltf_axes` is the only place that converts.

Measured (1000 synthetic box buildings of 24 vertices / 12 triangles with a full metadata row,
``tests/encode/glb_boxes.py``): 178 bytes per building compressed (532 uncompressed; 35 after gzip, 26
after brotli). Of the 178, positions take about 86, normals 22, indices 12, feature ids 6, metadata 48
(UTF-8 text does not shrink under meshopt; numbers and offsets do) and JSON 6. Without floor faces (20
vertices / 10 triangles) 161 bytes. Real LoD1/LoD2 OSM buildings of the Hamburg scene (about 55 vertices
and 30 triangles each) come to about 400 bytes, mostly positions (about 4 bytes per vertex).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import meshopt
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

#: Largest quantized coordinate: positions span [-Q, Q] along the longest bounding-box side.
_Q = 32767

#: Most materials a tile gets from vertex colours before it keeps them as a COLOR_0 attribute instead.
MAX_PALETTE = 8

_UNUSED = np.iinfo(np.uint32).max  # meshopt's remap value for a vertex no triangle uses

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
    """

    positions: np.ndarray
    normals: np.ndarray
    indices: np.ndarray
    feature_ids: np.ndarray
    colors: np.ndarray | None = None


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


def _checked(batch: MeshBatch, rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
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
    return (
        positions,
        normals / length[:, None],
        indices.astype(np.uint32),
        feature_ids.astype(np.int64),
        colors,
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
    """Collects bufferViews: raw into one buffer, or meshopt-compressed with a data-less fallback buffer."""

    def __init__(self, compress: bool) -> None:
        self.compress = compress
        self.views: list[dict[str, Any]] = []
        self.data = bytearray()  # the GLB binary chunk (compressed streams when compress)
        self.fallback_length = 0  # size of the uncompressed layout (buffer 1) when compress

    @staticmethod
    def _align(offset: int, alignment: int) -> int:
        return (offset + alignment - 1) // alignment * alignment

    def add(
        self,
        raw: bytes,
        *,
        stride: int | None = None,
        target: int | None = None,
        mode: str | None = None,
        filter: str | None = None,
        encoded: bytes | None = None,
        count: int = 0,
    ) -> int:
        """Store one bufferView and return its index.

        raw : the bytes a reader sees after decoding (the view's contents)
        stride : byteStride for vertex attributes (also the meshopt element size)
        mode, count, encoded : meshopt mode, element count and the compressed stream; ``None`` keeps the
            view uncompressed (in buffer 0) even when compressing
        """
        view: dict[str, Any] = {}
        if self.compress and mode is not None and encoded is not None:
            # Views are aligned to 8 so FLOAT64/INT64 property columns are aligned (metadata spec note).
            offset = self._align(self.fallback_length, 8)
            self.fallback_length = offset + len(raw)
            start = self._align(len(self.data), 4)
            self.data.extend(b"\0" * (start - len(self.data)) + encoded)
            ext: dict[str, Any] = {"buffer": 0, "byteLength": len(encoded), "mode": mode, "count": count}
            if start:
                ext["byteOffset"] = start
            ext["byteStride"] = len(raw) // count
            if filter is not None:
                ext["filter"] = filter
            view = {"buffer": 1, "byteLength": len(raw), "extensions": {"EXT_meshopt_compression": ext}}
            if offset:
                view["byteOffset"] = offset
        else:
            start = self._align(len(self.data), 8)
            self.data.extend(b"\0" * (start - len(self.data)) + raw)
            view = {"buffer": 0, "byteLength": len(raw)}
            if start:
                view["byteOffset"] = start
        if stride is not None:
            view["byteStride"] = stride
        if target is not None:
            view["target"] = target
        self.views.append(view)
        return len(self.views) - 1

    def add_attribute(self, rows: np.ndarray, filter: str | None = None, encode_rows: np.ndarray | None = None) -> int:
        """A vertex attribute view from (n, stride) rows; ``encode_rows`` is what meshopt sees before its filter."""
        rows = np.ascontiguousarray(rows)
        stride = rows.nbytes // len(rows)
        encoded = None
        if self.compress:
            source = rows if encode_rows is None else np.ascontiguousarray(encode_rows)
            encoded = meshopt.encode_gltf_buffer(source, "ATTRIBUTES", version=0)
        return self.add(
            rows.tobytes(),
            stride=stride,
            target=_ARRAY_BUFFER,
            mode="ATTRIBUTES",
            filter=filter,
            encoded=encoded,
            count=len(rows),
        )

    def add_table_view(self, data: bytes, component_size: int) -> int:
        """A property table column. Compressed as 4-byte rows only where its length is already a multiple of
        4 (no padding, so the view's length stays exact) and meshopt saves at least a tenth: numbers and
        string offsets shrink to a third, UTF-8 text does not shrink at all."""
        if self.compress and len(data) % 4 == 0:
            rows = np.frombuffer(data, dtype=np.uint8).reshape(-1, 4)
            encoded = meshopt.encode_gltf_buffer(rows, "ATTRIBUTES", version=0)
            if len(encoded) <= 0.9 * len(data):
                return self.add(data, mode="ATTRIBUTES", encoded=encoded, count=len(rows))
        return self.add(data)

    def buffers(self) -> list[dict[str, Any]]:
        """The glTF ``buffers`` array: the GLB chunk, then the fallback placeholder when compressing."""
        out: list[dict[str, Any]] = [{"byteLength": self._align(len(self.data), 4)}]
        if self.compress:
            out.append(
                {
                    "byteLength": max(self.fallback_length, 1),
                    "extensions": {"EXT_meshopt_compression": {"fallback": True}},
                }
            )
        return out


def _padded(rows: np.ndarray, width: int) -> np.ndarray:
    """(n, k) -> (n, width) of the same dtype, zero-filled: vertex attributes need 4-byte element strides."""
    out = np.zeros((len(rows), width), dtype=rows.dtype)
    out[:, : rows.shape[1]] = rows
    return out


def _triangle_order(indices: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Triangle and vertex order for the GPU caches and for compression, keeping each group contiguous.

    indices : (m, 3) uint32; groups : (m,) palette index of each triangle
    Returns the renumbered (m, 3) indices sorted by group, ``old_of_new`` ((unique,) old vertex of each new
    vertex) and ``unique``, the number of vertices used.
    """
    parts = []
    for g in np.unique(groups):
        tris = indices[groups == g].reshape(-1)
        # reorder_mesh optimises the triangle order for the vertex cache and renumbers the vertices; undo
        # the renumbering so the groups can be concatenated, then renumber once for all groups together.
        local, remap, _ = meshopt.reorder_mesh(tris, True, False)
        used = remap != _UNUSED
        old_of_local = np.empty(int(used.sum()), dtype=np.uint32)
        old_of_local[remap[used]] = np.nonzero(used)[0]
        parts.append(old_of_local[local])
    ordered = np.concatenate(parts)
    new_indices, remap, unique = meshopt.reorder_mesh(ordered, False, False)
    used = remap != _UNUSED
    old_of_new = np.empty(unique, dtype=np.int64)
    old_of_new[remap[used]] = np.nonzero(used)[0]
    return new_indices.reshape(-1, 3), old_of_new, unique


def _palette(colors: np.ndarray | None, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(m,) palette index per triangle and the (k, 3) uint8 sRGB palette, or ``None`` for no palette.

    A palette is used only when every triangle has one colour at its three corners and there are at most
    :data:`MAX_PALETTE` colours; otherwise the caller keeps per-vertex colours (one group).
    """
    if colors is None:
        return np.zeros(len(indices), dtype=np.int64), None
    corners = colors[indices]  # (m, 3 corners, 3 channels)
    tri_colors = corners[:, 0]
    palette, groups = np.unique(tri_colors, axis=0, return_inverse=True)
    if len(palette) > MAX_PALETTE or not np.all(corners == tri_colors[:, None, :]):
        return np.zeros(len(indices), dtype=np.int64), None
    return groups.reshape(-1), palette


def _material(rgba: list[float]) -> dict[str, Any]:
    return {"pbrMetallicRoughness": {"baseColorFactor": rgba, "metallicFactor": 0.0, "roughnessFactor": 0.9}}


def encode_glb(batch: MeshBatch, table: PropertyTable, *, compress: bool = True) -> bytes:
    """One tile as glb bytes: geometry of ``batch`` with one feature per row of ``table``.

    Colours become one material per distinct colour (one primitive each, sharing the vertex buffers)
    when there are at most :data:`MAX_PALETTE` of them, else a ``COLOR_0`` attribute: a few materials cost
    a few hundred bytes of JSON per tile, vertex colours about 20 bytes per box building.
    Raises InvalidGeometry for malformed arrays and BuildError for an inconsistent table.
    """
    positions, normals, indices, feature_ids, colors = _checked(batch, table.count)
    groups, palette = _palette(colors, indices)
    new_indices, order, unique = _triangle_order(indices, groups)
    group_sizes = np.bincount(groups, minlength=1 if palette is None else len(palette))

    q, centre, scale = quantize_positions(to_gltf_axes(positions[order]))
    gl_normals = to_gltf_axes(normals[order])
    fids = feature_ids[order]

    buffers = _Buffers(compress)
    accessors: list[dict[str, Any]] = []

    def accessor(view: int, component: int, type_: str, count: int, **extra: Any) -> int:
        accessors.append({"bufferView": view, "componentType": component, "count": count, "type": type_, **extra})
        return len(accessors) - 1

    attributes: dict[str, int] = {}
    pos_view = buffers.add_attribute(_padded(q, 4))
    attributes["POSITION"] = accessor(
        pos_view, _SHORT, "VEC3", unique, min=q.min(axis=0).tolist(), max=q.max(axis=0).tolist()
    )

    # Readers see int8 xyz + a pad byte; compressed, the octahedral filter stores the same vectors as
    # two numbers and a constant, which the attribute codec packs better.
    nrm_rows = _padded(np.round(gl_normals * 127).astype(np.int8), 4)
    oct_rows = None
    if compress:
        n4 = np.zeros((unique, 4), dtype=np.float32)
        n4[:, :3] = gl_normals
        oct_rows = meshopt.encode_filter_oct(n4, 4, 8)
    nrm_view = buffers.add_attribute(nrm_rows, "OCTAHEDRAL" if compress else None, oct_rows)
    attributes["NORMAL"] = accessor(nrm_view, _BYTE, "VEC3", unique, normalized=True)

    if table.count <= 65536:
        fid_view = buffers.add_attribute(_padded(fids.astype(np.uint16)[:, None], 2))
        attributes["_FEATURE_ID_0"] = accessor(fid_view, _UNSIGNED_SHORT, "SCALAR", unique)
    else:
        fid_view = buffers.add_attribute(fids.astype(np.float32)[:, None])
        attributes["_FEATURE_ID_0"] = accessor(fid_view, _FLOAT, "SCALAR", unique)

    if colors is not None and palette is None:
        col_view = buffers.add_attribute(_padded(_srgb_to_linear_u8(colors[order]), 4))
        attributes["COLOR_0"] = accessor(col_view, _UNSIGNED_BYTE, "VEC3", unique, normalized=True)

    index_component = _UNSIGNED_SHORT if unique <= 65536 else _UNSIGNED_INT
    index_array = new_indices.reshape(-1).astype(_COMPONENT_DTYPES[index_component])
    idx_view = buffers.add(
        index_array.tobytes(),
        target=_ELEMENT_ARRAY_BUFFER,
        mode="TRIANGLES",
        encoded=meshopt.encode_gltf_buffer(index_array.astype(np.uint32), "TRIANGLES") if compress else None,
        count=len(index_array),
    )

    metadata = encode_property_table(table, buffers.add_table_view)

    if palette is None:
        materials = [_material([1.0, 1.0, 1.0, 1.0] if colors is not None else list(_DEFAULT_COLOR))]
    else:
        linear = _srgb_to_linear_float(palette)
        materials = [_material([*map(float, rgb), 1.0]) for rgb in linear]
    primitives = []
    first = 0
    for material, size in enumerate(group_sizes.tolist()):
        tris = new_indices[first : first + size]
        index_accessor = accessor(
            idx_view,
            index_component,
            "SCALAR",
            3 * size,
            **({"byteOffset": 3 * first * index_array.itemsize} if first else {}),
        )
        first += size
        feature_count = len(np.unique(fids[tris.reshape(-1)]))
        feature_ids_json = {"featureCount": feature_count, "attribute": 0, "propertyTable": 0}
        primitives.append(
            {
                "attributes": attributes,
                "indices": index_accessor,
                "material": material,
                "extensions": {"EXT_mesh_features": {"featureIds": [feature_ids_json]}},
            }
        )

    used_ext = ["KHR_mesh_quantization", "EXT_mesh_features", "EXT_structural_metadata"]
    required_ext = ["KHR_mesh_quantization"]
    if compress:
        used_ext.append("EXT_meshopt_compression")
        required_ext.append("EXT_meshopt_compression")
    gltf: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": GENERATOR},
        "extensionsUsed": used_ext,
        "extensionsRequired": required_ext,
        "extensions": {"EXT_structural_metadata": metadata},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "translation": centre.tolist(), "scale": [scale] * 3}],
        "meshes": [{"primitives": primitives}],
        "materials": materials,
        "accessors": accessors,
        "bufferViews": buffers.views,
        "buffers": buffers.buffers(),
    }
    return pack_glb(gltf, bytes(buffers.data))


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
    gltf = json.loads(glb[20 : 20 + json_length].decode("utf-8"))
    binary = b""
    offset = 20 + json_length
    if offset + 8 <= length:
        bin_length, kind = struct.unpack_from("<II", glb, offset)
        if kind != _CHUNK_BIN or offset + 8 + bin_length > length:
            raise StoreError("glb: second chunk is not a BIN chunk")
        binary = glb[offset + 8 : offset + 8 + bin_length]
    return gltf, binary


def buffer_view_bytes(gltf: Mapping[str, Any], binary: bytes, index: int) -> bytes:
    """The contents of bufferView ``index`` of a glb from :func:`read_glb`, meshopt streams decoded."""
    view = gltf["bufferViews"][index]
    ext = view.get("extensions", {}).get("EXT_meshopt_compression")
    if ext is None:
        if view["buffer"] != 0:
            raise StoreError(f"bufferView {index} is not in the glb binary chunk")
        start = view.get("byteOffset", 0)
        return binary[start : start + view["byteLength"]]
    start = ext.get("byteOffset", 0)
    stream = binary[start : start + ext["byteLength"]]
    decoded = meshopt.decode_gltf_buffer(stream, ext["count"], ext["byteStride"], ext["mode"], ext.get("filter"))
    return np.ascontiguousarray(decoded).tobytes()


def read_accessor(gltf: Mapping[str, Any], binary: bytes, index: int) -> np.ndarray:
    """Accessor ``index`` as an array of its component type: (count,) for SCALAR, else (count, k)."""
    acc = gltf["accessors"][index]
    view = gltf["bufferViews"][acc["bufferView"]]
    data = buffer_view_bytes(gltf, binary, acc["bufferView"])
    dtype = _COMPONENT_DTYPES[acc["componentType"]]
    k = _TYPE_SIZES[acc["type"]]
    stride = view.get("byteStride", k * dtype.itemsize)
    start = acc.get("byteOffset", 0)
    raw = np.frombuffer(data, dtype=np.uint8)[start : start + stride * acc["count"]].reshape(acc["count"], stride)
    values = np.ascontiguousarray(raw[:, : k * dtype.itemsize]).view(dtype)
    return values[:, 0] if acc["type"] == "SCALAR" else values


def read_property_table(gltf: Mapping[str, Any], binary: bytes) -> dict[str, list[Any]]:
    """The first EXT_structural_metadata property table of a glb's JSON and binary chunk, as columns."""
    return decode_property_table(
        gltf["extensions"]["EXT_structural_metadata"], lambda i: buffer_view_bytes(gltf, binary, i)
    )
