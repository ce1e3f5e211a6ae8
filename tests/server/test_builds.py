"""Build jobs in worker processes: progress, log, cancel, serialisation, crashes, previews, publishing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from buildfolder import box_glb
from conftest import BOTH_IN_FULL_RUN, Env, both_databases

#: The tests mostly exercise the build worker: on PostgreSQL in the full run (TWIN_TEST_POSTGRES=all), and those
#: marked ``both_databases`` in every run (tests/server/conftest.py).
DATABASES = BOTH_IN_FULL_RUN


BUILDS = "/api/planner/scenes/demo/builds"
FINAL = ("succeeded", "failed", "cancelled")


def configure(env: Env, **conf: Any) -> None:
    (env.settings.scenes_dir / "demo" / "fake.json").write_text(json.dumps(conf))


def wait(env: Env, build: str, until: Any = lambda b: b["state"] in FINAL, timeout: float = 30) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        b = env.client.get(f"{BUILDS}/{build}", headers=env.planner).json()
        if until(b):
            return b
        time.sleep(0.05)
    raise AssertionError(f"build {build} stuck: {b}")


def public_version(env: Env) -> str:
    return env.client.get("/tiles/demo/tileset.json").json()["asset"]["tilesetVersion"]


@both_databases
def test_build_preview_publish(env: Env) -> None:
    configure(env, steps=2, delay=0.2)
    up = env.client.post("/api/planner/scenes/demo/uploads", content=box_glb(), headers=env.planner).json()
    env.client.put("/api/planner/scenes/demo/variants/proposal", json={"title": "P"}, headers=env.planner)
    env.client.put(
        "/api/planner/scenes/demo/variants/proposal/designs/house",
        headers=env.planner,
        json={"upload": up["id"], "title": "House", "anchor": {"lon": 9.97, "lat": 53.57}},
    )
    r = env.client.post(BUILDS, headers=env.planner)
    assert r.status_code == 202
    build = r.json()["id"]
    done = wait(env, build)
    assert done["state"] == "succeeded", (done["error"], done["log"])
    assert done["progress"] == 1.0 and "stage encode" in done["log"]
    # the draft: previewable by its unguessable URL, invisible on the public API
    assert public_version(env) == "v1"
    preview = env.client.get(done["preview"])
    assert preview.status_code == 200 and preview.json()["asset"]["tilesetVersion"] == "built-1"
    assert env.client.get(f"/preview/demo/{build}x/tileset.json").status_code == 404
    r = env.client.post(f"{BUILDS}/{build}/publish", headers=env.planner)
    assert r.status_code == 200 and r.json()["published"] is True
    assert public_version(env) == "built-1"
    assert env.client.get("/api/scenes/demo").json()["build"]["id"] == "built-1"


def test_failed_build_and_publish_refused(env: Env) -> None:
    configure(env, fail=True)
    build = env.client.post(BUILDS, headers=env.planner).json()["id"]
    done = wait(env, build)
    assert done["state"] == "failed" and "told to fail" in done["error"]
    assert done["preview"] is None
    assert env.client.post(f"{BUILDS}/{build}/publish", headers=env.planner).status_code == 409
    assert not (env.settings.data_dir / "scenes" / "demo" / "builds" / build).exists()
    assert public_version(env) == "v1"


@both_databases
def test_cancel_and_serialisation(env: Env) -> None:
    configure(env, steps=40, delay=20)
    first = env.client.post(BUILDS, headers=env.planner).json()["id"]
    second = env.client.post(BUILDS, headers=env.planner).json()["id"]
    wait(env, first, lambda b: b["state"] == "running")
    time.sleep(0.5)
    # one build of a scene at a time: the second waits for the lock
    assert env.client.get(f"{BUILDS}/{second}", headers=env.planner).json()["state"] == "queued"
    assert env.client.post(f"{BUILDS}/{first}/cancel", headers=env.planner).status_code == 200
    assert wait(env, first)["state"] == "cancelled"
    wait(env, second, lambda b: b["state"] == "running")
    env.client.post(f"{BUILDS}/{second}/cancel", headers=env.planner)
    assert wait(env, second)["state"] == "cancelled"
    assert env.client.post(f"{BUILDS}/{second}/cancel", headers=env.planner).status_code == 409
    assert public_version(env) == "v1"


def test_killed_worker_keeps_previous_version_and_upload(env: Env) -> None:
    up = env.client.post("/api/planner/scenes/demo/uploads", content=box_glb(), headers=env.planner).json()
    stored = env.settings.data_dir / "uploads" / up["id"] / "design.glb"
    before = stored.read_bytes()
    configure(env, steps=100, delay=60)
    build = env.client.post(BUILDS, headers=env.planner).json()["id"]
    running = wait(env, build, lambda b: b["state"] == "running" and b["progress"] > 0)
    partial = env.settings.data_dir / "scenes" / "demo" / "builds" / build
    assert (partial / "blobs" / "partial.glb").exists()  # killed with half a build on disk
    pid = env.client.app.state.db.builds.get(build)["pid"]
    os.kill(pid, signal.SIGKILL)
    done = wait(env, build)
    assert done["state"] == "failed" and "stopped unexpectedly" in done["error"], running
    assert not partial.exists()
    assert public_version(env) == "v1"
    assert env.client.get(f"/preview/demo/{build}/tileset.json").status_code == 404
    assert stored.read_bytes() == before
    # and the scene can be built again at once (the lock died with the worker)
    configure(env, steps=1)
    again = env.client.post(BUILDS, headers=env.planner).json()["id"]
    assert wait(env, again)["state"] == "succeeded"


KILL_MID_PUBLISH = """
import os, sys, time
from pathlib import Path
import server.store as store
real = os.replace
def replace(src, dst):
    if str(dst).endswith("published.json"):
        Path(sys.argv[3]).write_text("ready")
        time.sleep(60)  # killed here: the new pointer is written to a temp file, not yet renamed
    return real(src, dst)
store.os.replace = replace
store.SceneStore(Path(sys.argv[1])).publish("demo", sys.argv[2])
"""


def test_killed_publish_keeps_previous_version(env: Env) -> None:
    configure(env, steps=1)
    build = env.client.post(BUILDS, headers=env.planner).json()["id"]
    assert wait(env, build)["state"] == "succeeded"
    flag = env.tmp / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_MID_PUBLISH, str(env.settings.data_dir), build, str(flag)],
        cwd=Path(__file__).resolve().parents[2],
    )
    end = time.monotonic() + 30
    while not flag.exists() and time.monotonic() < end:
        assert proc.poll() is None, "publisher died early"
        time.sleep(0.05)
    assert public_version(env) == "v1"  # mid-publish: still the old version
    proc.kill()
    proc.wait()
    assert public_version(env) == "v1"
    assert env.client.get("/api/scenes/demo").json()["build"]["id"] == "v1"
    # publishing again works, and the leftover temp file is never served
    assert env.client.post(f"{BUILDS}/{build}/publish", headers=env.planner).status_code == 200
    assert public_version(env) == "built-0"
    assert env.client.get("/tiles/demo/.published.json.tmp").status_code == 404


def test_drafts_are_invisible(env: Env) -> None:
    configure(env, steps=1)
    build = env.client.post(BUILDS, headers=env.planner).json()["id"]
    wait(env, build)
    env.client.delete("/api/planner/scenes/demo/published", headers=env.planner)
    for path in (
        "/api/scenes/demo",
        "/tiles/demo/tileset.json",
        "/ogc/collections/demo",
        "/api/scenes/demo/buildings?bbox=0,0,1,1",
    ):
        r = env.client.get(path)
        assert r.status_code == 404, path
        assert r.json()["detail"] in ("scene 'demo' not found", "no such tile file"), path
    assert env.client.get("/api/scenes").json() == []
    assert env.client.get(f"{BUILDS}", headers=env.other).status_code == 404


def test_a_design_whose_file_went_missing_fails_only_its_variant(env: Env) -> None:
    configure(env, steps=1)
    for variant, size in (("kept", 8.0), ("gone", 12.0)):
        up = env.client.post("/api/planner/scenes/demo/uploads", content=box_glb(size), headers=env.planner).json()
        env.client.put(
            f"/api/planner/scenes/demo/variants/{variant}", json={"title": variant.title()}, headers=env.planner
        )
        env.client.put(
            f"/api/planner/scenes/demo/variants/{variant}/designs/box",
            headers=env.planner,
            json={"upload": up["id"], "title": "Box", "anchor": {"lon": 9.97, "lat": 53.57}},
        )
    (env.settings.data_dir / "uploads" / up["id"] / "design.glb").unlink()  # the disk lost the second one
    done = wait(env, env.client.post(BUILDS, headers=env.planner).json()["id"])
    assert done["state"] == "succeeded", (done["error"], done["log"])
    assert (
        done["error"].startswith("variant 'Gone' (gone) failed: design 'Box', file ") and "cannot read" in done["error"]
    )
    assert str(env.settings.data_dir) not in done["error"] + done["log"]  # the planner's names, no server paths
    folder = env.settings.data_dir / "scenes" / "demo" / "builds" / done["id"]
    assert json.loads((folder / "tileset.json").read_text())["asset"]["tilesetVersion"] == "built-1"
    assert [f["id"] for f in json.loads((folder / "scene.json").read_text())["variants_failed"]] == ["gone"]


def test_a_placement_off_the_scene_fails_its_variant_in_the_real_builder(tmp_path: Path) -> None:
    # Issue 20's case: a design stored before placements were checked, anchored thousands of km from the scene.
    # The sandbox check passes (the file is fine); the builder's variant stage refuses it; the city is built.
    from conftest import make_settings
    from fastapi.testclient import TestClient

    from server import cli
    from server.app import create_app

    settings = make_settings(tmp_path, builder="twin.build:build_scene", build_jobs=1)
    client = TestClient(create_app(settings))
    planner = {"Authorization": "Bearer " + cli.token_create(settings, "planner", ["demo"], "p")}
    up = client.post(
        "/api/planner/scenes/demo/uploads", params={"filename": "kiosk.glb"}, content=box_glb(6.0), headers=planner
    ).json()
    db = client.app.state.db  # type: ignore[attr-defined]
    for variant, title, (lon, lat) in (("near", "Near", (9.9452, 53.5799)), ("far", "Far", (100.0, 10.0))):
        db.scenes.put_variant("demo", variant, title, [])
        db.scenes.put_design("demo", variant, "kiosk", up["id"], "Kiosk", {"lon": lon, "lat": lat})

    class E:  # the minimum of conftest.Env that wait() uses
        pass

    env = E()
    env.client, env.planner = client, planner  # type: ignore[attr-defined]
    done = wait(env, client.post(BUILDS, headers=planner).json()["id"], timeout=120)
    assert done["state"] == "succeeded", (done["error"], done["log"])
    assert done["error"].startswith("variant 'Far' (far) failed: design 'Kiosk', file kiosk.glb: "), done["error"]
    assert "km from the scene's centre" in done["error"]
    assert "WARNING twin.variants: variant 'Far' (far) failed" in done["log"]
    assert "variant 'Near': 'Kiosk' (kiosk.glb); removes " in done["log"]
    folder = settings.data_dir / "scenes" / "demo" / "builds" / done["id"]
    scene = json.loads((folder / "scene.json").read_text())
    assert [v["id"] for v in scene["variants"]] == ["near"] and not (folder / "variants" / "far").exists()
    assert [f["id"] for f in scene["variants_failed"]] == ["far"]
    assert json.loads((folder / "report.json").read_text())["variants_failed"] == scene["variants_failed"]
