"""A real ``twin serve`` subprocess on a free loopback port, for tests about connections and processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from server.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
#: TWIN_TEST_SERVER_LOG=1 shows the server's stderr (when a test of it fails).
LOG = bool(os.environ.get("TWIN_TEST_SERVER_LOG"))


def free_port() -> int:
    """A loopback port nothing listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 30.0) -> None:
    """Return once ``port`` accepts connections; raise if ``proc`` exits or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


@contextmanager
def twin_serve(
    settings: Settings, workers: int = 1, preexec: Callable[[], None] | None = None, **env: str
) -> Iterator[str]:
    """Run ``twin serve`` over ``settings`` (TWIN_* variables, then ``env``); yields its base URL, stops it after.

    ``preexec`` runs in the child before it starts (e.g. to lower its file descriptor limit).
    """
    port = free_port()
    variables = {
        **os.environ,
        "TWIN_DATA_DIR": str(settings.data_dir),
        "TWIN_SCENES_DIR": str(settings.scenes_dir),
        "TWIN_VIEWER_DIR": str(settings.viewer_dir),
        "TWIN_BUILDER": settings.builder,
        "PYTHONPATH": str(ROOT),
        **env,
    }
    cmd = [str(Path(sys.executable).parent / "twin"), "serve", "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(
        cmd,
        env=variables,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=None if os.environ.get("TWIN_TEST_SERVER_LOG") else subprocess.DEVNULL,
        preexec_fn=preexec,
    )
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def call(method: str, url: str, headers: dict[str, str] | None = None, body: bytes | None = None) -> tuple[int, Any]:
    """(status, decoded JSON body or raw bytes) of one request; HTTP errors are answers, not exceptions."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, data = r.status, r.read()
    except urllib.error.HTTPError as exc:
        status, data = exc.code, exc.read()
    try:
        return status, json.loads(data)
    except ValueError:
        return status, data
