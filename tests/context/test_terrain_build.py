"""A build with terrain (the Bayreuth demo scene): terrain tilesets next to the city's, buildings on the ground,
the design's site levelled in its variant only, every terrain file valid (3D Tiles schema, glTF validator)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twin.build import build_scene
from twin.encode.glb import read_glb, read_primitive
from twin.scene import load_scene
from twin.validate import validate_glb_extensions, validate_tileset_json

SCENE = Path(__file__).resolve().parents[2] / "scenes" / "bayreuth"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bayreuth")
    build_scene(load_scene(SCENE), out, jobs=1)
    return out


def _uris(tile: dict[str, Any]) -> list[str]:
    own = [tile["content"]["uri"]] if "content" in tile else []
    return own + [u for child in tile.get("children", []) for u in _uris(child)]


def test_terrain_layers_are_listed_and_valid(built: Path, gltf_validator) -> None:  # type: ignore[no-untyped-def]
    scene = json.loads((built / "scene.json").read_text())
    assert [layer["id"] for layer in scene["layers"]][:2] == ["buildings", "terrain"]  # then the context layers
    variant = scene["variants"][0]
    assert variant["layers"] == [{"id": "terrain", "tileset": "variants/house-slope/terrain/tileset.json"}]
    glbs = {}
    for rel in ("terrain/tileset.json", variant["layers"][0]["tileset"]):
        path = built / rel
        doc = json.loads(path.read_text())
        assert validate_tileset_json(doc) == []
        assert doc["root"]["refine"] == "REPLACE"
        for uri in _uris(doc["root"]):
            blob = (path.parent / uri).resolve()
            assert blob.parent == (built / "blobs").resolve()  # one blob folder for city, variants and terrain
            glbs[blob.name] = blob.read_bytes()
    for glb in glbs.values():
        assert validate_glb_extensions(glb) == []
    reports = gltf_validator(list(glbs.values()))
    assert all(r["numErrors"] == 0 for r in reports), [r["messages"][:3] for r in reports if r["numErrors"]]
    report = json.loads((built / "report.json").read_text())
    assert report["terrain"]["tiles"] == scene["layers"][1]["features"] and report["terrain"]["leaf_error_m"] <= 1.0
    shared = report["terrain_variants"]["house-slope"]["tiles_shared"]
    assert 0 < shared < report["terrain"]["tiles"]  # the variant re-encodes only the tiles around its site


def test_buildings_stand_on_the_terrain(built: Path) -> None:
    features = json.loads((built / "buildings.geojson").read_text())["features"]
    grounds = np.array([f["properties"].get("ground", 0.0) for f in features])
    # Working z = 0 is 360 m above sea level; the buildings stand between about 340 and 390 m.
    assert len(features) > 500 and grounds.min() < -10.0 and grounds.max() > 10.0
    # Heights stay above their own ground, not shifted by it: the untyped buildings keep the default 9 m, the
    # few typed ones their type's height (twin/read/building_types.py), whatever the slope under them.
    heights = [f["properties"]["height"] for f in features]
    assert heights.count(9.0) > 500 and all(0.0 < h < 60.0 for h in heights)
    # The city tiles' lowest vertices are the grounds (within Draco's 1 cm steps), in the root frame's z...
    doc = json.loads((built / "tileset.json").read_text())
    lows = []
    for uri in _uris(doc["root"]):
        gltf, binary = read_glb((built / uri).read_bytes())
        prim = read_primitive(gltf, binary, gltf["meshes"][0]["primitives"][0])
        lows.append(float(prim["POSITION"][:, 1].min()) + gltf["nodes"][0]["translation"][1])
    # ...so the tiles reach as deep as the lowest building (root-frame z is close to working z here).
    assert min(lows) == pytest.approx(grounds.min(), abs=1.0)
