"""Issue 20: publishing and precompression stay atomic under concurrency (threads, processes, a real server)."""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from buildfolder import make_build
from conftest import Env
from liveserver import call, twin_serve

from server import cli
from server.store import SceneStore, precompress


def _second_build(env: Env) -> str:
    folder = env.tmp / "built-v2"
    make_build(folder, "v2")
    return cli.publish_folder(env.settings, "demo", folder)


def _assert_consistent(env: Env, builds: set[str]) -> None:
    pointer = env.settings.data_dir / "scenes" / "demo" / "published.json"
    assert json.loads(pointer.read_bytes())["build"] in builds
    leftovers = [p.name for p in pointer.parent.rglob("*.tmp")]
    assert leftovers == [], leftovers
    assert env.client.get("/api/scenes/demo").status_code == 200
    assert [s["id"] for s in env.client.get("/api/scenes").json()] == ["demo"]
    assert env.client.get("/tiles/demo/tileset.json").status_code == 200


def test_threads_publishing_two_builds_at_once_never_corrupt_the_pointer(env: Env) -> None:
    builds = [env.published, _second_build(env)]
    url = "/api/planner/scenes/demo/builds/{}/publish"

    def publish(i: int) -> int:
        return env.client.post(url.format(builds[i % 2]), headers=env.planner).status_code

    with ThreadPoolExecutor(24) as pool:
        codes = list(pool.map(publish, range(48)))
    assert codes == [200] * 48
    _assert_consistent(env, set(builds))


def test_precompression_in_parallel_writes_each_file_whole(env: Env) -> None:
    folder = env.settings.data_dir / "scenes" / "demo" / "builds" / env.published
    for p in folder.rglob("*.br"):
        p.unlink()
    for p in folder.rglob("*.gz"):
        p.unlink()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: precompress(folder), range(16)))
    import gzip

    for gz in folder.rglob("*.json.gz"):
        assert gzip.decompress(gz.read_bytes()) == gz.with_suffix("").read_bytes()


def _publish_many(data_dir: str, builds: list[str], n: int) -> None:
    store = SceneStore(Path(data_dir))
    for i in range(n):
        store.publish("demo", builds[i % 2])


def test_worker_processes_publishing_at_once_leave_a_valid_pointer(env: Env) -> None:
    builds = [env.published, _second_build(env)]
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_publish_many, args=(str(env.settings.data_dir), builds, 15)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    _assert_consistent(env, set(builds))


def test_a_real_server_with_two_workers_survives_24_simultaneous_publishes(env: Env) -> None:
    builds = [env.published, _second_build(env)]
    with twin_serve(env.settings, workers=2) as base:
        url = base + "/api/planner/scenes/demo/builds/{}/publish"

        def publish(i: int) -> int:
            return call("POST", url.format(builds[i % 2]), env.planner)[0]

        with ThreadPoolExecutor(24) as pool:
            codes = list(pool.map(publish, range(24)))
        assert codes == [200] * 24
        status, scenes = call("GET", base + "/api/scenes")
        assert status == 200 and [s["id"] for s in scenes] == ["demo"]
        assert call("GET", base + "/tiles/demo/tileset.json")[0] == 200
    _assert_consistent(env, set(builds))
