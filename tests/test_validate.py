"""Schema validation helpers: tileset.json against 3D Tiles 1.1, glb extensions against their schemas."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from twin.encode.glb import pack_glb
from twin.errors import StoreError
from twin.validate import validate_glb_extensions, validate_tileset_json

TILESET: dict[str, Any] = {
    "asset": {"version": "1.1", "generator": "urban-twin"},
    "geometricError": 120.0,
    "root": {
        "transform": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 3900000.0, 700000.0, 5000000.0, 1],
        "boundingVolume": {"box": [0, 0, 10, 200, 0, 0, 0, 200, 0, 0, 0, 10]},
        "geometricError": 40.0,
        "refine": "ADD",
        "content": {"uri": "blobs/0123456789abcdef0123456789abcdef.glb"},
        "children": [
            {
                "boundingVolume": {"box": [-100, -100, 5, 100, 0, 0, 0, 100, 0, 0, 0, 5]},
                "geometricError": 0.0,
                "content": {"uri": "blobs/fedcba9876543210fedcba9876543210.glb"},
            }
        ],
    },
}


def test_minimal_tileset_is_valid() -> None:
    assert validate_tileset_json(TILESET) == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("asset", "version"), 1.1, "asset/version"),
        (("geometricError",), -1, "geometricError"),
        (("root", "refine"), 5, "root/refine"),
        (("root", "boundingVolume", "box"), [0, 0, 0], "root/boundingVolume/box"),
        (("root", "children", 0, "content", "uri"), 7, "root/children/0/content/uri"),
    ],
)
def test_broken_tileset_names_the_place(path: tuple[Any, ...], value: Any, expected: str) -> None:
    broken = copy.deepcopy(TILESET)
    target: Any = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    errors = validate_tileset_json(broken)
    assert errors and all(e.startswith("tileset/") for e in errors)
    assert any(e.startswith(f"tileset/{expected}") for e in errors), errors


def test_root_needs_refine() -> None:
    # The spec requires refine on the root tile; JSON Schema cannot say "only on the root".
    broken = copy.deepcopy(TILESET)
    del broken["root"]["refine"]
    assert validate_tileset_json(broken) == ["tileset/root/refine: required on the root tile"]
    del broken["root"]["children"][0]["boundingVolume"]
    assert len(validate_tileset_json(broken)) == 2


def test_missing_root_is_an_error() -> None:
    broken = {k: v for k, v in TILESET.items() if k != "root"}
    assert any("'root' is a required property" in e for e in validate_tileset_json(broken))


def _glb(gltf: dict[str, Any]) -> bytes:
    return pack_glb({"asset": {"version": "2.0"}, **gltf}, b"")


def test_glb_cross_references_are_checked() -> None:
    metadata = {
        "schema": {"id": "s", "classes": {"building": {"properties": {"id": {"type": "STRING"}}}}},
        "propertyTables": [{"class": "house", "count": 1, "properties": {}}],
    }
    primitive = {
        "attributes": {"POSITION": 0},
        "extensions": {"EXT_mesh_features": {"featureIds": [{"featureCount": 1, "attribute": 0, "propertyTable": 3}]}},
    }
    errors = validate_glb_extensions(
        _glb({"extensions": {"EXT_structural_metadata": metadata}, "meshes": [{"primitives": [primitive]}]})
    )
    assert any("EXT_structural_metadata is used but not listed" in e for e in errors)
    assert any("class 'house' is not in the schema" in e for e in errors)
    assert any("no attribute _FEATURE_ID_0" in e for e in errors)
    assert any("no property table 3" in e for e in errors)


def test_glb_without_extensions_has_nothing_to_check() -> None:
    assert validate_glb_extensions(_glb({})) == []


def test_not_a_glb_raises() -> None:
    with pytest.raises(StoreError):
        validate_glb_extensions(b"{}")
