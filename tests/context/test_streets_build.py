"""A build with street context (the Eimsbüttel OSM fixture): roads, areas and trees layers next to the city's,
listed in scene.json, switched by the manifest's [context], every file valid (3D Tiles schema, glTF validator)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from twin.build import build_scene
from twin.context.context_layer import ContextSpec
from twin.encode.glb import read_glb, read_property_table
from twin.errors import ManifestError
from twin.scene import parse_scene
from twin.validate import validate_glb_extensions, validate_tileset_json

OSM = Path(__file__).resolve().parents[1] / "fixtures" / "osm" / "hamburg_eimsbuettel_cut.geojson"


def _scene(context: dict[str, Any] | None = None) -> Any:
    data: dict[str, Any] = {
        "id": "cut",
        "crs": "EPSG:25832",
        "sources": [{"name": "osm", "path": str(OSM), "format": "osm-geojson"}],
    }
    if context is not None:
        data["context"] = context
    return parse_scene(data, OSM.parent)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("context")
    build_scene(_scene(), out, jobs=1)
    return out


def _uris(tile: dict[str, Any]) -> list[str]:
    own = [tile["content"]["uri"]] if "content" in tile else []
    return own + [u for child in tile.get("children", []) for u in _uris(child)]


def test_manifest_switch() -> None:
    assert _scene().context == ContextSpec()
    assert _scene({"trees": False}).context == ContextSpec(trees=False)
    with pytest.raises(ManifestError, match="unknown keys"):
        _scene({"rivers": True})
    with pytest.raises(ManifestError, match="roads must be true or false"):
        _scene({"roads": "yes"})


def test_layers_are_listed_and_valid(built: Path, gltf_validator) -> None:  # type: ignore[no-untyped-def]
    scene = json.loads((built / "scene.json").read_text())
    layers = {layer["id"]: layer for layer in scene["layers"]}
    assert {"buildings", "roads", "areas", "trees"} <= set(layers)
    report = json.loads((built / "report.json").read_text())
    glbs = []
    for name in ("roads", "areas", "trees"):
        if name not in layers:
            continue
        assert layers[name]["tileset"] == f"{name}/tileset.json"
        assert layers[name]["features"] == report["context"][name]["features"] > 0
        tileset = json.loads((built / name / "tileset.json").read_text())
        assert validate_tileset_json(tileset) == []
        for uri in _uris(tileset["root"]):
            glb = (built / name / uri).resolve().read_bytes()
            assert validate_glb_extensions(glb) == []
            glbs.append(glb)
    for result in gltf_validator(glbs):
        assert result["numErrors"] == 0 and result["numWarnings"] == 0, result["messages"]
    # Picking shows OSM tags: every road row has its way id and tags.
    gltf, binary = read_glb(glbs[0])
    table = read_property_table(gltf, binary)
    assert all(i.startswith("way/") for i in table["id"])
    assert all("highway" in json.loads(t) for t in table["tags"])


def test_layers_off(tmp_path: Path) -> None:
    build_scene(_scene({"roads": False, "areas": False, "trees": False}), tmp_path, jobs=1, write_footprints=False)
    scene = json.loads((tmp_path / "scene.json").read_text())
    assert [layer["id"] for layer in scene["layers"]] == ["buildings"]
    assert not (tmp_path / "roads").exists()
