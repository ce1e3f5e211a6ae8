"""The glb content of a placed design, for one tile of a variant tileset.

Unlike city tiles (:mod:`twin.encode.glb`: one material, Draco-compressed), a design keeps what the planner
drew: one primitive per material with its colours and textures, float positions (a few thousand vertices;
textured designs need exact UVs more than small files). Every design part (IFC product, glTF mesh) is one
feature of the ``building`` class (EXT_mesh_features + EXT_structural_metadata, docs/architecture.md), so the
viewer can pick a wall and show its GlobalId, name and IFC class.

Coordinates: design-local → working CRS (the placement) → the root frame's exact local coordinates
(:meth:`twin.crs.Frame.exact_local`, so curvature is honoured) minus the tile centre's → glTF Y-up through
:func:`twin.encode.glb.to_gltf_axes`, the one axis conversion of the project.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import trimesh
from trimesh.visual.material import PBRMaterial, SimpleMaterial

from twin.crs import Frame
from twin.encode.glb import pack_glb, to_gltf_axes
from twin.encode.metadata import BUILDING_CLASS, BUILDING_PROPERTIES, PropertySpec, PropertyTable, encode_property_table
from twin.errors import DesignError

from .model import Design, Placement

#: The building class of the city tiles, plus what a design part has on top.
DESIGN_PROPERTIES: dict[str, PropertySpec] = {
    **BUILDING_PROPERTIES,
    "storey": PropertySpec("STRING", no_data="", description="IFC building storey of the part"),
    "design": PropertySpec("STRING", no_data="", description="Id of the design the part belongs to"),
}

_UNSIGNED_INT, _FLOAT = 5125, 5126
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963

#: Texture slots kept from a trimesh PBR material, with their glTF names.
_TEXTURE_SLOTS = {
    "baseColorTexture": "baseColorTexture",
    "metallicRoughnessTexture": "metallicRoughnessTexture",
    "normalTexture": "normalTexture",
    "occlusionTexture": "occlusionTexture",
    "emissiveTexture": "emissiveTexture",
}


def placed_bounds(design: Design, placement: Placement) -> np.ndarray:
    """(2, 3) float64, min and max corner of the placed design in the working CRS (for the tile's volume)."""
    points = np.concatenate([placement.apply(m.vertices) for m in design.meshes().values()])
    return np.stack([points.min(axis=0), points.max(axis=0)])


class _Bin:
    """The glb binary chunk: bufferViews appended at 8-byte boundaries (metadata columns need 8)."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.views: list[dict[str, Any]] = []

    def add(self, raw: bytes, target: int | None = None, stride: int | None = None) -> int:
        start = (len(self.data) + 7) // 8 * 8
        self.data.extend(b"\0" * (start - len(self.data)) + raw)
        view: dict[str, Any] = {"buffer": 0, "byteOffset": start, "byteLength": len(raw)}
        if target is not None:
            view["target"] = target
        if stride is not None:
            view["byteStride"] = stride
        self.views.append(view)
        return len(self.views) - 1


def _pbr(material: Any) -> PBRMaterial | None:
    if isinstance(material, PBRMaterial):
        return material
    if isinstance(material, SimpleMaterial):
        return material.to_pbr()
    return None


def _image_bytes(image: Any) -> tuple[bytes, str]:
    """Encoded image and its MIME type: JPEG sources stay JPEG, everything else becomes PNG."""
    out = io.BytesIO()
    if getattr(image, "format", None) == "JPEG" and image.mode in ("RGB", "L"):
        image.save(out, format="JPEG", quality=90)
        return out.getvalue(), "image/jpeg"
    image.save(out, format="PNG")
    return out.getvalue(), "image/png"


def material_key(material: Any, textured: bool) -> Any:
    """What makes two materials the same in the output: their PBR values (textured ones stay apart).

    IFC exports give every product its own material object, often with a handful of distinct colours
    (FZK-Haus: 108 materials, 8 colours); grouping by value gives one primitive per colour, so any client
    draws the design in a few calls.
    """
    if textured:
        return ("texture", id(material))
    pbr = _pbr(material)
    if pbr is None:
        return ("default",)
    values = []
    for name in ("baseColorFactor", "metallicFactor", "roughnessFactor", "emissiveFactor", "alphaMode", "doubleSided"):
        value = getattr(pbr, name, None)
        if isinstance(value, np.ndarray | list | tuple):
            value = tuple(round(float(v), 4) for v in np.asarray(value, dtype=np.float64).ravel())
        elif isinstance(value, float):
            value = round(value, 4)
        values.append(value)
    return ("pbr", *values)


class _Materials:
    """glTF materials, textures and images from trimesh materials, each written once."""

    def __init__(self, binary: _Bin) -> None:
        self.binary = binary
        self.materials: list[dict[str, Any]] = []
        self.textures: list[dict[str, Any]] = []
        self.images: list[dict[str, Any]] = []
        self._by_key: dict[Any, int] = {}
        self._image_by_id: dict[int, int] = {}

    def _texture(self, image: Any) -> int:
        key = id(image)
        if key not in self._image_by_id:
            data, mime = _image_bytes(image)
            self.images.append({"bufferView": self.binary.add(data), "mimeType": mime})
            self._image_by_id[key] = len(self.images) - 1
            self.textures.append({"source": self._image_by_id[key]})
        return self._image_by_id[key]  # one texture per image, same index

    def index(self, material: Any, textured: bool) -> int:
        key = material_key(material, textured)
        if key in self._by_key:
            return self._by_key[key]
        pbr = _pbr(material)
        out: dict[str, Any] = {"pbrMetallicRoughness": {}}
        if pbr is None:
            out["pbrMetallicRoughness"] = {"baseColorFactor": [0.8, 0.8, 0.8, 1.0], "metallicFactor": 0.0}
        else:
            pmr = out["pbrMetallicRoughness"]
            if pbr.baseColorFactor is not None:
                factor = np.asarray(pbr.baseColorFactor, dtype=np.float64)
                factor = factor / 255.0 if factor.dtype.kind in "ui" or factor.max() > 1.0 else factor
                pmr["baseColorFactor"] = [float(np.clip(v, 0.0, 1.0)) for v in factor[:4]]
            for name in ("metallicFactor", "roughnessFactor"):
                value = getattr(pbr, name, None)
                if value is not None:
                    pmr[name] = float(np.clip(value, 0.0, 1.0))
            if pbr.emissiveFactor is not None:
                out["emissiveFactor"] = [float(np.clip(v, 0.0, 1.0)) for v in np.asarray(pbr.emissiveFactor)[:3]]
            if pbr.alphaMode in ("BLEND", "MASK"):
                out["alphaMode"] = pbr.alphaMode
                if pbr.alphaMode == "MASK" and pbr.alphaCutoff is not None:
                    out["alphaCutoff"] = float(pbr.alphaCutoff)
            if pbr.doubleSided:
                out["doubleSided"] = True
            if textured:
                for attr, slot in _TEXTURE_SLOTS.items():
                    image = getattr(pbr, attr, None)
                    if image is not None:
                        target = pmr if slot in ("baseColorTexture", "metallicRoughnessTexture") else out
                        target[slot] = {"index": self._texture(image)}
            if getattr(pbr, "name", None):
                out["name"] = str(pbr.name)
        self.materials.append(out)
        self._by_key[key] = len(self.materials) - 1
        return self._by_key[key]


def _has_texture(mesh: trimesh.Trimesh) -> bool:
    uv = getattr(mesh.visual, "uv", None)
    pbr = _pbr(getattr(mesh.visual, "material", None))
    if uv is None or pbr is None or len(uv) != len(mesh.vertices):
        return False
    return any(getattr(pbr, attr, None) is not None for attr in _TEXTURE_SLOTS)


def _feature_rows(design: Design, tops: Mapping[str, float]) -> list[dict[str, Any]]:
    levels = len(design.storeys) if design.storeys else None
    rows = []
    for node, meta in design.parts.items():
        rows.append(
            {
                "id": str(meta.get("id", node)),
                "source": design.source,
                "height": float(tops.get(node, 0.0)),
                "levels": levels,
                "name": str(meta.get("name", "")),
                "usage": str(meta.get("usage", "")),
                "storey": str(meta.get("storey", "")),
                "design": design.id,
            }
        )
    return rows


def design_glb(
    design: Design, placement: Placement, frame: Frame, centre: np.ndarray, *, translate: bool = False
) -> bytes:
    """The placed design as one glb whose vertices are relative to ``centre`` (working CRS) in the root frame.

    centre : (3,) float64 working CRS point; vertices are ``frame.exact_local(p) - frame.exact_local(centre)``
        in glTF Y-up axes
    translate : put the centre back as the node's translation (the glb is then in the root frame itself)
    Normals: the file's own (glTF, OBJ with ``vn``) are kept, rotated; without them (IFC, CityGML, OBJ
    without ``vn``) none are written, and glTF requires viewers to shade flat — right for buildings, and no
    smoothing across the sharp edges of walls that share vertices.
    """
    centre = np.asarray(centre, dtype=np.float64).reshape(3)
    origin = frame.exact_local(centre[None])[0]
    meshes = design.meshes()
    if not meshes:
        raise DesignError(f"design {design.id!r} has no meshes")
    linear = placement.matrix[:3, :3]
    normal_matrix = np.linalg.inv(linear).T
    binary = _Bin()
    materials = _Materials(binary)
    # Group parts by (material, textured): one primitive each.
    groups: dict[Any, list[tuple[int, str, trimesh.Trimesh]]] = {}
    material_of: dict[Any, Any] = {}
    feature_index = {node: i for i, node in enumerate(design.parts)}
    tops: dict[str, float] = {}
    for node, mesh in meshes.items():
        textured = _has_texture(mesh)
        material = getattr(mesh.visual, "material", None)
        key = material_key(material, textured)
        groups.setdefault(key, []).append((feature_index[node], node, mesh))
        material_of[key] = material
    accessors: list[dict[str, Any]] = []
    primitives: list[dict[str, Any]] = []

    def accessor(array: np.ndarray, kind: str, target: int, minmax: bool = False) -> int:
        array = np.ascontiguousarray(array)
        acc: dict[str, Any] = {
            "bufferView": binary.add(array.tobytes(), target=target),
            "componentType": _UNSIGNED_INT if array.dtype == np.uint32 else _FLOAT,
            "count": int(array.shape[0]),
            "type": kind,
        }
        if minmax:
            acc["min"] = [float(v) for v in array.min(axis=0)]
            acc["max"] = [float(v) for v in array.max(axis=0)]
        accessors.append(acc)
        return len(accessors) - 1

    for key, members in groups.items():
        positions, normals, uvs, fids, faces = [], [], [], [], []
        offset = 0
        # Normals only when every part of the primitive has the file's own (see the docstring).
        has_normals = all("vertex_normals" in m._cache for _, _, m in members)
        for index, node, mesh in members:
            world = placement.apply(mesh.vertices)
            tops[node] = float(world[:, 2].max())
            positions.append(to_gltf_axes(frame.exact_local(world) - origin))
            if has_normals:
                n = np.asarray(mesh.vertex_normals, dtype=np.float64) @ normal_matrix.T
                length = np.linalg.norm(n, axis=1, keepdims=True)
                n = np.where(length > 1e-12, n / np.maximum(length, 1e-12), np.array([0.0, 0.0, 1.0]))
                normals.append(to_gltf_axes(n))
            if key[0] == "texture":
                uv = np.asarray(getattr(mesh.visual, "uv", None), dtype=np.float64)[:, :2].copy()
                uv[:, 1] = 1.0 - uv[:, 1]  # trimesh keeps OBJ-style UVs (origin bottom left); glTF's is top left
                uvs.append(uv)
            fids.append(np.full(len(mesh.vertices), index, dtype=np.float32))
            faces.append(np.asarray(mesh.faces, dtype=np.int64) + offset)
            offset += len(mesh.vertices)
        if offset >= 2**32 - 1:
            raise DesignError(f"design {design.id!r}: too many vertices for one primitive")
        pos = np.concatenate(positions).astype(np.float32)
        if not np.all(np.isfinite(pos)):
            raise DesignError(f"design {design.id!r}: placed coordinates are not finite")
        fid = np.concatenate(fids)
        attributes = {"POSITION": accessor(pos, "VEC3", _ARRAY_BUFFER, minmax=True)}
        if normals:
            attributes["NORMAL"] = accessor(np.concatenate(normals).astype(np.float32), "VEC3", _ARRAY_BUFFER)
        if uvs:
            attributes["TEXCOORD_0"] = accessor(np.concatenate(uvs).astype(np.float32), "VEC2", _ARRAY_BUFFER)
        attributes["_FEATURE_ID_0"] = accessor(fid, "SCALAR", _ARRAY_BUFFER)
        indices = accessor(np.concatenate(faces).astype(np.uint32).ravel(), "SCALAR", _ELEMENT_ARRAY_BUFFER)
        primitives.append(
            {
                "attributes": attributes,
                "indices": indices,
                "material": materials.index(material_of[key], key[0] == "texture"),
                "mode": 4,
                "extensions": {
                    "EXT_mesh_features": {
                        "featureIds": [{"featureCount": len(np.unique(fid)), "attribute": 0, "propertyTable": 0}]
                    }
                },
            }
        )
    rows = _feature_rows(design, tops)
    columns = {name: [row.get(name) for row in rows] for name in DESIGN_PROPERTIES}
    table = PropertyTable(BUILDING_CLASS, DESIGN_PROPERTIES, columns)
    metadata = encode_property_table(table, lambda data, _size: binary.add(data))
    root: dict[str, Any] = {"mesh": 0, "name": design.id}
    if translate:
        root["translation"] = [float(v) for v in to_gltf_axes(origin[None])[0]]
    gltf: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": "urban-twin designs"},
        "extensionsUsed": ["EXT_mesh_features", "EXT_structural_metadata"],
        "extensions": {"EXT_structural_metadata": metadata},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [root],
        "meshes": [{"name": design.id, "primitives": primitives}],
        "materials": materials.materials,
        "accessors": accessors,
        "bufferViews": binary.views,
        "buffers": [{"byteLength": (len(binary.data) + 3) // 4 * 4}],
    }
    if materials.textures:
        gltf["textures"] = materials.textures
        gltf["images"] = materials.images
    return pack_glb(gltf, bytes(binary.data))
