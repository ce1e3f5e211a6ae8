"""Issue 20: slow and greedy clients against a real ``twin serve`` (raw sockets on 127.0.0.1, bounded in time)."""

from __future__ import annotations

import resource
import socket
import time
from collections.abc import Iterator

import aiorun
import pytest
from conftest import Env
from liveserver import call, twin_serve

QUICK = {
    "TWIN_HEADER_TIMEOUT_SECONDS": "1.5",
    "TWIN_BODY_GRACE_SECONDS": "1.5",
    "TWIN_BODY_MIN_BYTES_PER_SECOND": "1000",
}


def _connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    return s


def _read_all(s: socket.socket, seconds: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes (or ``seconds`` pass); and when it closed."""
    start = time.monotonic()
    s.settimeout(seconds)
    data = b""
    try:
        while chunk := s.recv(4096):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data, time.monotonic() - start


@pytest.fixture
def server(env: Env) -> Iterator[str]:
    with twin_serve(env.settings, **QUICK) as base:
        yield base


def test_a_client_dribbling_header_lines_is_cut_off(server: str) -> None:
    s = _connect(server)
    s.sendall(b"GET /api/scenes HTTP/1.1\r\nHost: localhost\r\n")
    start = time.monotonic()
    closed = False
    while time.monotonic() - start < 8:
        try:
            s.sendall(b"X-Slow: 1\r\n")
        except OSError:
            closed = True
            break
        s.settimeout(0.5)
        try:
            if s.recv(4096) == b"":
                closed = True
                break
        except TimeoutError:
            pass
        except OSError:
            closed = True
            break
    assert closed, "a client sending a header line every 0.5 s was never cut off"
    assert time.monotonic() - start < 5
    s.close()


def test_a_silent_connection_gets_408_and_is_closed(server: str) -> None:
    s = _connect(server)
    data, took = _read_all(s, 8)
    s.close()
    assert data.startswith(b"HTTP/1.1 408") and took < 5


def test_a_dribbled_body_is_cut_off_but_a_steady_one_is_not(server: str, env: Env) -> None:
    s = _connect(server)
    head = "PUT /api/planner/scenes/demo/variants/slow HTTP/1.1\r\nHost: localhost\r\n"
    auth = env.planner["Authorization"]
    s.sendall(f"{head}Authorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n".encode())
    start = time.monotonic()
    cut = False
    while time.monotonic() - start < 10:
        try:
            s.sendall(b" ")
            time.sleep(0.3)
        except OSError:
            cut = True
            break
    data, _ = _read_all(s, 2)
    s.close()
    assert cut or data.startswith(b"HTTP/1.1 408"), "one byte every 0.3 s was never cut off"
    assert time.monotonic() - start < 8
    # A body that arrives at a normal rate is answered.
    status, body = call(
        "PUT",
        server + "/api/planner/scenes/demo/variants/steady",
        {**env.planner, "Content-Type": "application/json"},
        b'{"title": "Steady"}',
    )
    assert status == 200, body


def test_a_big_body_without_a_token_is_refused_before_it_is_sent(server: str) -> None:
    s = _connect(server)
    s.sendall(
        b"PUT /api/planner/scenes/demo/variants/x HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\nContent-Length: 900000\r\n\r\n{"
    )
    data, took = _read_all(s, 5)
    s.close()
    assert data.startswith(b"HTTP/1.1 401") and took < 3
    s = _connect(server)
    s.sendall(
        b"PUT /api/planner/scenes/demo/variants/x HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{"
    )
    data, took = _read_all(s, 5)
    s.close()
    assert data.startswith(b"HTTP/1.1 413") and took < 3


def _few_fds() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200))


def test_hundreds_of_slow_clients_do_not_lock_real_users_out(env: Env) -> None:
    # The server may hold 200 descriptors; 300 slow clients would take them all without the deadlines.
    with twin_serve(env.settings, preexec=_few_fds, TWIN_MAX_CONNECTIONS_PER_CLIENT="0", **QUICK) as base:
        slow = []
        for _ in range(300):
            s = _connect(base)
            s.sendall(b"GET /api/scenes HTTP/1.1\r\nHost: localhost\r\n")
            slow.append(s)
        try:
            # While they hold every descriptor, new connections are dropped (uvloop resets them); the header
            # deadline frees the descriptors, so a user retrying gets in within seconds, not never.
            start, answer = time.monotonic(), None
            while answer is None and time.monotonic() - start < 20:
                try:
                    answer = call("GET", base + "/api/scenes")
                except OSError:
                    time.sleep(0.5)
            assert answer is not None and answer[0] == 200 and [x["id"] for x in answer[1]] == ["demo"]
            assert time.monotonic() - start < 10
        finally:
            for s in slow:
                s.close()


def test_one_address_cannot_take_every_connection(env: Env) -> None:
    with twin_serve(env.settings, TWIN_MAX_CONNECTIONS_PER_CLIENT="5", **QUICK) as base:
        held = [_connect(base) for _ in range(5)]
        extra = _connect(base)
        data, _ = _read_all(extra, 5)
        assert data.startswith(b"HTTP/1.1 503")
        for s in [*held, extra]:
            s.close()
        time.sleep(0.2)
        assert call("GET", base + "/api/scenes")[0] == 200


def test_forwarded_headers_and_host_do_not_reach_links(server: str) -> None:
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "Host": "evil.example"}
    status, scenes = call("GET", server + "/api/scenes", headers)
    assert status == 200
    assert scenes[0]["tileset_url"].startswith("http://127.0.0.1:"), scenes[0]["tileset_url"]


def test_websockets_outlive_the_header_deadline_and_free_their_slot(env: Env) -> None:
    import asyncio
    import json

    import websockets

    with twin_serve(env.settings, TWIN_MAX_CONNECTIONS_PER_CLIENT="3", **QUICK) as base:
        status, visit = call(
            "POST",
            base + "/api/visits",
            {**env.planner, "Content-Type": "application/json"},
            json.dumps({"scene": "demo"}).encode(),
        )
        assert status == 201, visit
        ws_url = base.replace("http://", "ws://") + f"/ws/visits/{visit['code']}?name=Ann"

        async def main() -> None:
            for _ in range(5):  # more than the cap, one after the other: each closed one frees its slot
                async with websockets.connect(ws_url) as ws:
                    await asyncio.wait_for(ws.recv(), 5)
            async with websockets.connect(ws_url) as ws:
                await asyncio.sleep(2.5)  # longer than the header deadline (1.5 s)
                await ws.ping()

        aiorun.run(main())
