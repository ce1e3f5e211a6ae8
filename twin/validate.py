"""Check our output against the official JSON schemas: tileset.json and the metadata extensions of a glb.

The schemas ship in ``twin/schemas/`` (copied unmodified, see ``twin/schemas/SOURCES.md``). Passing them
does not prove a file conforms (the specs have rules JSON Schema cannot state), but it catches wrong
names, types and ranges. Functions return lists of readable error strings (empty = valid) so tests and a
``twin validate`` command can print them; they raise only when the input is not JSON/glb at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from twin.encode.glb import read_glb

__all__ = ["read_glb", "validate_glb_extensions", "validate_tileset_json"]

_TILESET_ROOT = "tileset.schema.json"
_MESH_FEATURES_ROOT = "mesh.primitive.EXT_mesh_features.schema.json"
_METADATA_ROOT = "glTF.EXT_structural_metadata.schema.json"


def _schema_dir(*parts: str) -> Traversable:
    return resources.files("twin").joinpath("schemas", *parts)


def _json_files(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(path relative to ``folder``, parsed JSON) for every ``*.json`` below it."""
    for entry in folder.iterdir():
        if entry.is_dir():
            yield from _json_files(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(".json"):
            yield prefix + entry.name, json.loads(entry.read_text(encoding="utf-8"))


def _registry(files: Iterator[tuple[str, Any]]) -> tuple[Registry, dict[str, Any]]:
    contents = dict(files)
    resources_ = [
        (key, Resource.from_contents(schema, default_specification=DRAFT202012)) for key, schema in contents.items()
    ]
    return Registry().with_resources(resources_), contents


@cache
def _tileset_validator() -> Draft202012Validator:
    # Keyed by path relative to the schema folder, so the bare $ids and relative $refs ("./Schema/...",
    # "../common/...") resolve, and a missing file is an error rather than a silent pass.
    registry, contents = _registry(_json_files(_schema_dir("3d-tiles")))
    return Draft202012Validator(contents[_TILESET_ROOT], registry=registry)


@cache
def _gltf_extension_validator(extension: str, root: str) -> Draft202012Validator:
    # One registry per extension, its folder plus the glTF core schemas it references, keyed by bare name.
    files = [
        *_json_files(_schema_dir("gltf-extensions", extension)),
        *_json_files(_schema_dir("gltf-extensions", "glTF-2.0-core")),
    ]
    registry, contents = _registry(iter(files))
    return Draft202012Validator(contents[root], registry=registry)


def _messages(validator: Draft202012Validator, instance: Any, where: str) -> list[str]:
    out = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in error.absolute_path)
        out.append(f"{where}{'/' + path if path else ''}: {error.message}")
    return out


def validate_tileset_json(obj: Mapping[str, Any]) -> list[str]:
    """Errors of a tileset.json object against the 3D Tiles 1.1 schema, each ``"path: message"``.

    Adds the one rule of the spec JSON Schema cannot state: the root tile must have ``refine``.
    """
    errors = _messages(_tileset_validator(), obj, "tileset")
    root = obj.get("root")
    if isinstance(root, Mapping) and "refine" not in root:
        errors.append("tileset/root/refine: required on the root tile")
    return errors


def validate_glb_extensions(glb: bytes) -> list[str]:
    """Errors of a glb's EXT_mesh_features (each primitive) and EXT_structural_metadata (glTF level).

    Besides the schemas, checks the cross references JSON Schema cannot: extensions listed in
    ``extensionsUsed``, feature ID attributes present on the primitive, property tables, classes and
    bufferViews that exist. Raises :class:`twin.errors.StoreError` when the bytes are not a glb.
    """
    gltf, _ = read_glb(glb)
    errors: list[str] = []
    used = set(gltf.get("extensionsUsed", []))
    views = len(gltf.get("bufferViews", []))
    metadata = gltf.get("extensions", {}).get("EXT_structural_metadata")
    tables: list[Any] = []
    if metadata is not None:
        if "EXT_structural_metadata" not in used:
            errors.append("extensionsUsed: EXT_structural_metadata is used but not listed")
        validator = _gltf_extension_validator("EXT_structural_metadata", _METADATA_ROOT)
        errors += _messages(validator, metadata, "extensions/EXT_structural_metadata")
        tables = metadata.get("propertyTables", [])
        classes = metadata.get("schema", {}).get("classes", {})
        for t, table in enumerate(tables):
            where = f"extensions/EXT_structural_metadata/propertyTables/{t}"
            if table.get("class") not in classes:
                errors.append(f"{where}: class {table.get('class')!r} is not in the schema")
                continue
            declared = classes[table["class"]].get("properties", {})
            for name, prop in table.get("properties", {}).items():
                if name not in declared:
                    errors.append(f"{where}/properties/{name}: not a property of class {table['class']!r}")
                for key in ("values", "stringOffsets", "arrayOffsets"):
                    if key in prop and not (isinstance(prop[key], int) and 0 <= prop[key] < views):
                        errors.append(f"{where}/properties/{name}/{key}: no bufferView {prop[key]}")
    for m, mesh in enumerate(gltf.get("meshes", [])):
        for p, primitive in enumerate(mesh.get("primitives", [])):
            features = primitive.get("extensions", {}).get("EXT_mesh_features")
            if features is None:
                continue
            where = f"meshes/{m}/primitives/{p}/extensions/EXT_mesh_features"
            if "EXT_mesh_features" not in used:
                errors.append("extensionsUsed: EXT_mesh_features is used but not listed")
                used.add("EXT_mesh_features")
            errors += _messages(_gltf_extension_validator("EXT_mesh_features", _MESH_FEATURES_ROOT), features, where)
            for i, feature_id in enumerate(features.get("featureIds", [])):
                if "attribute" in feature_id and f"_FEATURE_ID_{feature_id['attribute']}" not in primitive.get(
                    "attributes", {}
                ):
                    errors.append(f"{where}/featureIds/{i}: no attribute _FEATURE_ID_{feature_id['attribute']}")
                table_index = feature_id.get("propertyTable")
                if table_index is not None and not (isinstance(table_index, int) and 0 <= table_index < len(tables)):
                    errors.append(f"{where}/featureIds/{i}: no property table {table_index}")
    return errors
