"""Guided visits through the scene server: opening, joining by WebSocket, host authority, bad input, resume."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiorun
import pytest
from conftest import BOTH_IN_FULL_RUN, Env
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from server.app import create_app
from server.realtime import service as S

#: The tests exercise the visits' own state (memory or Redis), not the database: on PostgreSQL in the full run only
#: (TWIN_TEST_POSTGRES=all, tests/server/conftest.py).
DATABASES = BOTH_IN_FULL_RUN


HEAD = [1.0, 1.6, -2.0, 0.0, 0.0, 0.0, 1.0]


@pytest.fixture
def client(env: Env) -> Iterator[TestClient]:
    # One TestClient context: every WebSocket of a test runs in the same event loop, as in a real server.
    app = create_app(env.settings.model_copy(update={"visit_grace_seconds": 0.3}))
    with TestClient(app) as c:
        yield c


def open_visit(client: TestClient, env: Env, **body: Any) -> dict[str, Any]:
    r = client.post("/api/visits", json={"scene": "demo", **body}, headers=env.planner)
    assert r.status_code == 201, r.text
    return r.json()


def send(ws: WebSocketTestSession, **fields: Any) -> None:
    ws.send_text(json.dumps({"v": 1, **fields}))


def until(ws: WebSocketTestSession, kind: str, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The next message of type ``kind``; other types are skipped, unless they are in neither list."""
    for _ in range(200):
        msg = ws.receive_json()
        if msg["t"] == kind:
            return msg
        assert msg["t"] in {*skip, "joined", "away", "left", "poses", "pointer", "gather", "state", "host"}, msg
    raise AssertionError(f"no {kind} message")


@contextmanager
def join(
    client: TestClient, code: str, name: str = "Ann", **query: str
) -> Iterator[tuple[WebSocketTestSession, dict[str, Any]]]:
    params = "&".join(f"{k}={v}" for k, v in {"name": name, **query}.items())
    with client.websocket_connect(f"/ws/visits/{code}?{params}") as ws:
        welcome = ws.receive_json()
        yield ws, welcome


def closed_with(ws: WebSocketTestSession) -> int:
    with pytest.raises(WebSocketDisconnect) as info:
        for _ in range(500):
            ws.receive_json()
    return info.value.code


def test_opening_needs_a_token_and_a_scene_in_scope(client: TestClient, env: Env) -> None:
    assert client.post("/api/visits", json={"scene": "demo"}).status_code == 401
    other = client.post("/api/visits", json={"scene": "demo"}, headers=env.other)
    assert other.status_code == 404 and other.headers["content-type"] == "application/problem+json"
    bad = client.post("/api/visits", json={"scene": "demo", "mode": "orbit"}, headers=env.planner)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    visit = open_visit(client, env, variant="tower", mode="street")
    assert len(visit["code"]) == 7 and visit["join_url"].endswith(f"?id=demo&visit={visit['code']}")
    assert visit["host_url"].endswith(f"&host={visit['host_key']}")
    assert visit["qr_svg"].startswith("<svg") and visit["state"]["variant"] == "tower"
    info = client.get(f"/api/visits/{visit['code'].lower()}")
    assert info.status_code == 200 and info.json()["people"] == 0 and info.json()["state"]["mode"] == "street"
    qr = client.get(f"/api/visits/{visit['code']}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml" and b"<svg" in qr.content


def test_unknown_codes_are_refused_and_guessing_is_rate_limited(client: TestClient, env: Env) -> None:
    r = client.get("/api/visits/AAAAAAA")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    with join(client, "nonsense") as (ws, msg):
        assert msg == {"v": 1, "t": "error", "code": "unknown_code", "detail": msg["detail"]}
        assert closed_with(ws) == 4404
    for _ in range(S.FAIL_LIMIT):
        client.get("/api/visits/AAAAAAA")
    visit = open_visit(client, env)
    limited = client.get(f"/api/visits/{visit['code']}")  # even the right code, while the address is blocked
    assert limited.status_code == 429 and limited.headers["retry-after"] == "60"
    assert limited.headers["content-type"] == "application/problem+json"


def test_host_steers_and_everyone_follows(client: TestClient, env: Env) -> None:
    visit = open_visit(client, env)
    code = visit["code"]
    with join(client, code, "Guide", key=visit["host_key"]) as (host, hw), join(client, code, "Ann") as (ann, aw):
        assert hw["t"] == "welcome" and hw["role"] == "host" and hw["state"]["host"] == hw["you"]
        assert aw["role"] == "guest" and [p["name"] for p in aw["people"]] == ["Guide", "Ann"]
        assert until(host, "joined")["person"]["name"] == "Ann"
        send(host, t="state", variant="tower", date="2026-06-21T18:00", follow=True)
        for ws in (host, ann):
            state = until(ws, "state")["state"]
            assert state["variant"] == "tower" and state["follow"] and state["rev"] > aw["state"]["rev"]
        send(host, t="gather", at=[10, 0, 5], yaw=1.57)
        assert until(ann, "gather") == {"v": 1, "t": "gather", "at": [10.0, 0.0, 5.0], "yaw": 1.57, "by": hw["you"]}
        send(host, t="pointer", at=[1, 2, 3])
        assert until(ann, "pointer")["at"] == [1.0, 2.0, 3.0]
        send(ann, t="pose", h=HEAD, s=0.002)
        poses = until(host, "poses")["p"]
        assert poses[aw["you"]] == {"h": HEAD, "s": 0.002}


def test_a_participant_pretending_to_be_the_host_is_refused_and_the_visit_goes_on(client: TestClient, env: Env) -> None:
    visit = open_visit(client, env)
    code = visit["code"]
    with join(client, code, "Guide", key=visit["host_key"]) as (host, _), join(client, code, "Mallory") as (bad, _):
        for fake in ({"t": "state", "variant": "evil"}, {"t": "gather", "at": [0, 0, 0]}, {"t": "end"}):
            send(bad, **fake)
            err = until(bad, "error")
            assert err["code"] == "forbidden"
        with join(client, code, "Mallory", key="guessed") as (again, msg):
            assert msg["code"] == "bad_host_key" and closed_with(again) == 4403
        send(host, t="state", variant="tower")
        assert until(bad, "state")["state"]["variant"] == "tower"
    assert client.get(f"/api/visits/{code}").json()["state"]["variant"] == "tower"


def test_bad_input_gets_errors_and_floods_are_cut_off(client: TestClient, env: Env) -> None:
    visit = open_visit(client, env)
    code = visit["code"]
    with join(client, code, "Guide", key=visit["host_key"]) as (host, _), join(client, code, "Ann") as (ann, _):
        for text in ("{", json.dumps({"v": 9, "t": "ping"}), "x" * 5000):
            ann.send_text(text)
            assert until(ann, "error")["code"] in {"malformed", "version", "too_large"}
        ann.send_bytes(b"\x00\x01")
        assert until(ann, "error")["code"] == "binary"
        send(ann, t="ping")
        assert until(ann, "pong")["t"] == "pong"  # still connected
        with join(client, code, "Flood") as (flood, _):
            for _ in range(int(S.BURST) + S.MAX_OVER_RATE + 50):
                send(flood, t="ping")
            codes = set()
            with pytest.raises(WebSocketDisconnect) as info:
                for _ in range(1000):
                    msg = flood.receive_json()
                    codes.add(msg.get("code"))
            assert info.value.code == 4429 and {"rate_limited", "flood"} <= codes
        send(host, t="state", variant="tower")
        assert until(ann, "state", skip=("pong",))["state"]["variant"] == "tower"


def test_a_late_joiner_gets_the_state_people_and_last_poses_at_once(client: TestClient, env: Env) -> None:
    visit = open_visit(client, env)
    code = visit["code"]
    with join(client, code, "Guide", key=visit["host_key"]) as (host, hw):
        send(host, t="state", variant="tower", mode="street")
        until(host, "state")
        send(host, t="pointer", at=[4, 5, 6])
        send(host, t="pose", h=HEAD, s=1.0)
        send(host, t="ping")
        until(host, "pong")
        with join(client, code, "Late", role="spectator") as (late, lw):
            assert lw["state"]["variant"] == "tower" and lw["state"]["mode"] == "street"
            assert lw["state"]["pointer"] == [4.0, 5.0, 6.0] and lw["poses"][hw["you"]]["h"] == HEAD
            assert lw["role"] == "spectator"
            send(late, t="pose", h=HEAD)
            assert until(late, "error")["code"] == "forbidden"


def test_poses_supersede_instead_of_queueing() -> None:
    """A receiver that is behind gets each person's latest pose once, not every pose sent meanwhile."""

    async def main() -> None:
        svc = S.VisitService()
        visit, key = await svc.open("demo", "alice")
        host, _ = await svc.connect(visit.code, "a", "Guide", host_key=key)
        guest, _ = await svc.connect(visit.code, "b", "Ann")
        for i in range(30):
            await svc.receive(host, json.dumps({"v": 1, "t": "pose", "h": [i, 0, 0, 0, 0, 0, 1]}))
        got = []
        while not guest.client.queue.empty() or guest.client.latest:
            got.append(json.loads(await guest.next() or "{}"))
        poses = [m for m in got if m["t"] == "poses"]
        assert len(poses) == 1 and poses[0]["p"][host.person]["h"][0] == 29.0
        await svc.close()

    aiorun.run(main())


def test_a_dropped_connection_resumes_as_the_same_person(client: TestClient, env: Env) -> None:
    visit = open_visit(client, env)
    code = visit["code"]
    with join(client, code, "Guide", key=visit["host_key"]) as (host, _):
        with join(client, code, "Ann") as (_, first):
            until(host, "joined")
        assert until(host, "away")["id"] == first["you"]
        send(host, t="state", variant="tower")
        with join(client, code, "", resume=first["resume"]) as (_, again):
            assert again["you"] == first["you"] and again["name"] == "Ann" and again["state"]["variant"] == "tower"
            assert again["resume"] != first["resume"]
            assert until(host, "joined")["person"]["id"] == first["you"]
            time.sleep(0.5)  # past the grace period: still in, because Ann came back
            info = client.get(f"/api/visits/{code}").json()
            assert info["people"] == 2
        assert until(host, "away")["id"] == first["you"]
        assert until(host, "left")["id"] == first["you"]  # gone for longer than the grace period
        with join(client, code, "", resume=first["resume"]) as (ws, msg):
            assert msg["code"] == "bad_resume" and closed_with(ws) == 4403


def test_a_second_connection_of_the_same_person_replaces_the_first(client: TestClient, env: Env) -> None:
    visit = open_visit(client, env)
    code = visit["code"]
    key = visit["host_key"]
    with join(client, code, "Guide", key=key) as (host, hw), join(client, code, "Guide", key=key) as (second, sw):
        assert sw["you"] == hw["you"] and sw["role"] == "host"
        assert closed_with(host) == 4409
        send(second, t="state", variant="tower")
        assert until(second, "state")["state"]["variant"] == "tower"


def test_when_the_host_leaves_the_visit_is_handed_over_or_ends(client: TestClient, env: Env) -> None:
    visit = open_visit(client, env)
    code = visit["code"]
    with join(client, code, "Ann") as (ann, aw):
        with join(client, code, "Guide", key=visit["host_key"]) as (host, _):
            until(ann, "joined")
            send(host, t="leave")
            assert closed_with(host) == 1000
        msg = until(ann, "host")
        assert msg["id"] == aw["you"] and msg["state"]["host"] == aw["you"]
        send(ann, t="state", variant="tower")  # Ann steers now
        assert until(ann, "state")["state"]["variant"] == "tower"
    ending = open_visit(client, env, on_host_leave="end")
    with join(client, ending["code"], "Ann") as (ann, _):
        with join(client, ending["code"], "Guide", key=ending["host_key"]):
            until(ann, "joined")
        until(ann, "away")  # the host's connection dropped; not back within the grace period
        assert until(ann, "end")["reason"] == "the host left"
        assert closed_with(ann) == 1000
    assert client.get(f"/api/visits/{ending['code']}").status_code == 404
    ended = open_visit(client, env)
    with join(client, ended["code"], "Ann") as (ann, _):
        with join(client, ended["code"], "Guide", key=ended["host_key"]) as (host, _):
            send(host, t="end")
        assert until(ann, "end")["reason"] == "the host ended the visit"
        assert closed_with(ann) == 1000
