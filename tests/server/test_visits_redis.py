"""Guided visits shared through a real Redis (started by this test run): the backend, and two server processes."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiorun
import httpx
import pytest
import websockets
from conftest import make_settings
from liveserver import free_port, wait_for_port

from server import cli
from server.realtime.backend import VisitGone
from server.realtime.redis import RedisBackend
from server.realtime.visits import Visit, admit, apply_state, digest, new_code

ROOT = Path(__file__).resolve().parents[2]
REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS is None, reason="redis-server is not installed (make setup installs it)")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway redis-server on a free loopback port, no persistence; stopped after the module."""
    assert REDIS is not None
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_redis_backend_stores_changes_atomically_and_publishes(redis_url: str) -> None:
    async def main() -> None:
        a, b = RedisBackend(redis_url), RedisBackend(redis_url)
        got: list[tuple[str, str, str, str]] = []
        await b.start(lambda *m: got.append(m))
        visit = Visit(new_code(), "demo", "alice", digest("k"))
        assert await a.create(visit) and not await b.create(visit)  # a taken code
        host = await a.update(visit.code, lambda v: admit(v, "Guide", "guest", "k", None, 50))

        # Two processes changing the same visit at once: both changes survive (WATCH/MULTI retries).
        async def bump(backend: RedisBackend, i: int) -> None:
            await backend.update(visit.code, lambda v: apply_state(v, host.id, {"variant": f"v{i}"}))

        await asyncio.gather(*(bump(a if i % 2 else b, i) for i in range(10)))
        stored = await b.get(visit.code)
        assert stored is not None and stored.rev == 11 and stored.people[host.id].role == "host"
        with pytest.raises(VisitGone):
            await a.update("NOPE", lambda v: None)
        assert await a.fail("10.0.0.1", 60) == 1 and await b.fail("10.0.0.1", 60) == 2
        assert await a.failures("10.0.0.1") == 2
        await a.publish(visit.code, "q", "p1", '{"v":1,"t":"x|y"}')
        for _ in range(50):
            if got:
                break
            await asyncio.sleep(0.02)
        assert got == [(visit.code, "q", "p1", '{"v":1,"t":"x|y"}')]
        await a.close()
        await b.close()

    aiorun.run(main())


@pytest.fixture
def two_servers(tmp_path: Path, redis_url: str) -> Iterator[tuple[list[str], dict[str, str]]]:
    """Two ``uvicorn`` processes over one data folder and one Redis, as two workers or two machines would be."""
    settings = make_settings(tmp_path)
    token = cli.token_create(settings, "planner", ["demo"], "guide")
    env = {
        **os.environ,
        "TWIN_DATA_DIR": str(settings.data_dir),
        "TWIN_SCENES_DIR": str(settings.scenes_dir),
        "TWIN_VIEWER_DIR": str(settings.viewer_dir),
        "TWIN_REDIS_URL": redis_url,
        "PYTHONPATH": str(ROOT),
    }
    ports = [free_port(), free_port()]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "server.app:app_from_env", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port, proc in zip(ports, procs, strict=True):
            wait_for_port(port, proc)
        yield [f"127.0.0.1:{p}" for p in ports], {"Authorization": f"Bearer {token}"}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)


async def until(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if msg["t"] == kind:
            return msg


def test_people_on_different_server_processes_see_each_other(two_servers: tuple[list[str], dict[str, str]]) -> None:
    (one, two), auth = two_servers
    opened = httpx.post(f"http://{one}/api/visits", json={"scene": "demo"}, headers=auth)
    assert opened.status_code == 201, opened.text
    code, key = opened.json()["code"], opened.json()["host_key"]
    assert httpx.get(f"http://{two}/api/visits/{code}").status_code == 200  # the other process knows it

    async def main() -> None:
        async with (
            websockets.connect(f"ws://{one}/ws/visits/{code}?name=Guide&key={key}") as host,
            websockets.connect(f"ws://{two}/ws/visits/{code}?name=Ann") as ann,
        ):
            hw, aw = json.loads(await host.recv()), json.loads(await ann.recv())
            assert hw["role"] == "host" and aw["role"] == "guest" and aw["state"]["host"] == hw["you"]
            assert (await until(host, "joined"))["person"]["name"] == "Ann"
            await host.send(json.dumps({"v": 1, "t": "state", "variant": "tower"}))
            assert (await until(ann, "state"))["state"]["variant"] == "tower"
            await ann.send(json.dumps({"v": 1, "t": "pose", "h": [1, 1.6, 2, 0, 0, 0, 1], "s": 1}))
            assert (await until(host, "poses"))["p"][aw["you"]]["h"] == [1.0, 1.6, 2.0, 0.0, 0.0, 0.0, 1.0]
            # host authority holds across processes too
            await ann.send(json.dumps({"v": 1, "t": "state", "variant": "evil"}))
            assert (await until(ann, "error"))["code"] == "forbidden"
            await host.send(json.dumps({"v": 1, "t": "gather", "at": [5, 0, 5], "yaw": 0}))
            assert (await until(ann, "gather"))["at"] == [5.0, 0.0, 5.0]
        # Ann comes back on the other process with her resume token: same person, current state
        async with websockets.connect(f"ws://{one}/ws/visits/{code}?resume={aw['resume']}") as again:
            welcome = json.loads(await again.recv())
            assert welcome["you"] == aw["you"] and welcome["state"]["variant"] == "tower"

    aiorun.run(main())


def test_an_unreachable_redis_is_a_clear_error_not_a_crash(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    from server.app import create_app

    settings = make_settings(tmp_path, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    with (
        TestClient(create_app(settings)) as client,
        client.websocket_connect("/ws/visits/ACD3467?name=Ann") as ws,
    ):
        assert ws.receive_json()["code"] == "unavailable"
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
        assert info.value.code == 1011
        r = client.get("/api/visits/ACD3467")
        assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
