"""End to end with the real builder (twin.build.build_scene) in the worker: upload, place, build, publish."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from buildfolder import box_glb
from conftest import make_settings
from fastapi.testclient import TestClient
from test_builds import BUILDS, wait

from server import cli
from server.app import create_app


def test_real_build_publish_and_serve(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, builder="twin.build:build_scene", build_jobs=1)
    client = TestClient(create_app(settings))
    planner = {"Authorization": "Bearer " + cli.token_create(settings, "planner", ["demo"], "p")}
    up = client.post(
        "/api/planner/scenes/demo/uploads", params={"filename": "cube.glb"}, content=box_glb(8.0), headers=planner
    ).json()
    client.put("/api/planner/scenes/demo/variants/proposal", json={"title": "Proposal"}, headers=planner)
    r = client.put(
        "/api/planner/scenes/demo/variants/proposal/designs/cube",
        headers=planner,
        json={"upload": up["id"], "title": "Cube", "anchor": {"lon": 9.9452, "lat": 53.5799}},
    )
    assert r.status_code == 200, r.text
    build = client.post(BUILDS, headers=planner).json()["id"]

    class E:  # the minimum of conftest.Env that wait() uses
        pass

    env = E()
    env.client, env.planner = client, planner  # type: ignore[attr-defined]
    done = wait(env, build, timeout=120)  # type: ignore[arg-type]
    assert done["state"] == "succeeded", done
    # the log names what the planner named (variant and design titles, the uploaded file), not counters
    assert "variant 'Proposal': 'Cube' (cube.glb); removes " in done["log"], done["log"]
    assert client.post(f"{BUILDS}/{build}/publish", headers=planner).status_code == 200
    scene = client.get("/api/scenes/demo").json()
    assert [v["id"] for v in scene["variants"]] == ["proposal"]
    tileset = client.get(scene["tileset_url"]).json()

    def first_content(tile: dict) -> str | None:
        if "content" in tile:
            return str(tile["content"]["uri"])
        return next((u for c in tile.get("children", []) if (u := first_content(c))), None)

    uri = first_content(tileset["root"])
    assert uri is not None
    glb = client.get(f"/tiles/demo/{uri}")
    assert glb.status_code == 200 and glb.headers["content-type"] == "model/gltf-binary"
    assert glb.content[:4] == b"glTF"  # Draco-compressed: trimesh cannot decode it, the viewer does
    assert client.get(scene["variants"][0]["tileset_url"]).status_code == 200
    feats = client.get("/api/scenes/demo/buildings", params={"bbox": "9.9,53.5,10.0,53.6"}).json()["features"]
    assert len(feats) >= 10
