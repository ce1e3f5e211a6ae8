"""Incremental rebuilds keep the street context layers of the earlier build (Eimsbüttel OSM fixture): nothing is
read or meshed again while the sources and [context] are unchanged, also into another folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from test_streets_build import _scene, _uris

from twin.build import build_scene

LAYERS = ("roads", "areas", "trees")


def _tileset(out: Path, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((out / name / "tileset.json").read_text())
    return doc


def test_a_rebuild_reuses_the_context_layers(tmp_path: Path) -> None:
    first, second = tmp_path / "v1", tmp_path / "v2"
    build_scene(_scene(), first, jobs=1)
    result = build_scene(_scene(), second, jobs=1, previous=first)
    report = json.loads((second / "report.json").read_text())
    assert report["counts"]["base_reused"] == 1 and report["context"]["reused"] is True
    before = json.loads((first / "scene.json").read_text())["layers"]
    assert json.loads((second / "scene.json").read_text())["layers"] == before
    for name in LAYERS:
        old, new = _tileset(first, name), _tileset(second, name)
        assert new["asset"]["tilesetVersion"] == result.scene_info["build"]["id"] != old["asset"]["tilesetVersion"]
        assert _uris(new["root"]) == _uris(old["root"]) and _uris(new["root"])
        for uri in _uris(new["root"]):  # the blobs were adopted into the new build's folder
            assert (second / name / uri).resolve().is_file()
            assert (second / name / uri).resolve().is_relative_to(second.resolve())
            assert (second / name / uri).read_bytes() == (first / name / uri).read_bytes()


def test_other_context_settings_build_the_layers_again(tmp_path: Path) -> None:
    first, second = tmp_path / "v1", tmp_path / "v2"
    build_scene(_scene(), first, jobs=1)
    build_scene(_scene({"trees": False}), second, jobs=1, previous=first)
    report = json.loads((second / "report.json").read_text())
    assert report["counts"]["base_reused"] == 1 and "reused" not in report["context"]
    layers = {layer["id"] for layer in json.loads((second / "scene.json").read_text())["layers"]}
    assert {"roads", "areas"} <= layers and "trees" not in layers
