"""Guided-visit load: one server process, N simulated participants sending poses at R Hz for S seconds.

    python -m bench.visits [--clients 50] [--rate 20] [--seconds 60] [--procs 2] [--out FILE]

The server is ``uvicorn server.app:app_from_env`` (one process, the in-process backend) on loopback. The
participants are ``websockets`` clients spread over ``--procs`` processes; participant 0 is the host and
also changes the variant once a second. Every pose carries its send time (``ts``), so each receiver knows
how old every pose it gets is (same clock: loopback). Reported: poses sent, pose deliveries expected
(each pose to everyone else) and received (the rest were superseded by a newer pose of the same person,
which the protocol allows), state changes lost (must be 0), connections dropped, p50/p99/max latency,
and the CPU time of the server and of the clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import websockets

ROOT = Path(__file__).resolve().parent.parent
BIN_MS = 0.1  # latency histogram resolution
BINS = 100_000  # up to 10 s


def seconds(text: str) -> float:
    """``60``, ``60s`` or ``1m`` as seconds (the Makefile passes wrk-style durations)."""
    text = text.strip().lower()
    if text.endswith("m"):
        return float(text[:-1]) * 60
    return float(text.rstrip("s"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], int, str]:
    """The scene server over a fresh data folder with one scene; returns the process, port and a planner token."""
    from server import cli
    from server.settings import Settings

    scenes = folder / "scenes" / "bench"
    scenes.mkdir(parents=True)
    (scenes / "scene.toml").write_text('id = "bench"\ntitle = "Bench"\ncrs = "EPSG:25832"\n', encoding="utf-8")
    settings = Settings(data_dir=folder / "data", scenes_dir=folder / "scenes", viewer_dir=folder / "none")
    settings.data_dir.mkdir(parents=True)
    token = cli.token_create(settings, "planner", ["bench"], "bench")
    port = free_port()
    env = {
        **os.environ,
        "TWIN_DATA_DIR": str(settings.data_dir),
        "TWIN_SCENES_DIR": str(settings.scenes_dir),
        "TWIN_VIEWER_DIR": str(settings.viewer_dir),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("TWIN_REDIS_URL", None)
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "server.app:app_from_env", "--port", str(port)]
    cmd += ["--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port, token
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


async def participant(
    url: str, index: int, rate: float, start: float, stop: float, stats: dict[str, Any], hist: list[int]
) -> None:
    async with websockets.connect(url, max_queue=None) as ws:
        json.loads(await ws.recv())  # welcome
        host = index == 0

        async def sender() -> None:
            await asyncio.sleep(max(0.0, start - time.time()) + (index % 50) / 50 / rate)
            period, n, changes, next_change = 1 / rate, 0, 0, start + 1.0
            while (now := time.time()) < stop:
                pose = {"v": 1, "t": "pose", "h": [index, 1.6, n * 0.01, 0, 0, 0, 1], "s": 1, "ts": now * 1000}
                await ws.send(json.dumps(pose, separators=(",", ":")))
                n += 1
                if host and now >= next_change:
                    changes += 1
                    next_change += 1.0
                    await ws.send(json.dumps({"v": 1, "t": "state", "variant": f"v{changes}"}))
                await asyncio.sleep(max(0.0, start + n * period + (index % 50) / 50 / rate - time.time()))
            stats["sent"] += n
            stats["changes"] += changes

        task = asyncio.create_task(sender())
        try:
            while True:
                text = await asyncio.wait_for(ws.recv(), timeout=max(1.0, stop - time.time() + 1.0))
                now_ms = time.time() * 1000
                if text.startswith('{"v":1,"t":"poses"'):
                    poses = json.loads(text)["p"]
                    stats["messages"] += 1
                    for pose in poses.values():
                        stats["received"] += 1
                        hist[min(BINS - 1, int((now_ms - pose["ts"]) / BIN_MS))] += 1
                elif '"t":"state"' in text and not host:
                    stats["states"] += 1
        except (TimeoutError, websockets.ConnectionClosedOK):
            pass
        except websockets.ConnectionClosed:
            stats["dropped"] += 1
        await task


def client_process(urls: list[tuple[int, str]], rate: float, start: float, stop: float, out: Any) -> None:
    stats = dict.fromkeys(("sent", "changes", "received", "messages", "states", "dropped"), 0)
    hist = [0] * BINS

    async def main() -> None:
        await asyncio.gather(*(participant(url, i, rate, start, stop, stats, hist) for i, url in urls))

    asyncio.run(main())
    times = os.times()
    out.put((stats, hist, times.user + times.system))


def percentile(hist: list[int], q: float) -> float:
    total, seen = sum(hist), 0
    for i, count in enumerate(hist):
        seen += count
        if seen >= q * total:
            return (i + 0.5) * BIN_MS
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--seconds", type=seconds, default=60.0)
    ap.add_argument("--procs", type=int, default=2, help="client processes")
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, port, token = start_server(Path(tmp))
        try:
            result = run(port, token, proc.pid, args)
        finally:
            proc.terminate()
            proc.wait(10)
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def run(port: int, token: str, server_pid: int, args: argparse.Namespace) -> dict[str, Any]:
    opened = httpx.post(
        f"http://127.0.0.1:{port}/api/visits", json={"scene": "bench"}, headers={"Authorization": f"Bearer {token}"}
    ).json()
    base = f"ws://127.0.0.1:{port}/ws/visits/{opened['code']}"
    urls = [f"{base}?name=host&key={opened['host_key']}"] + [f"{base}?name=p{i}" for i in range(1, args.clients)]
    start = time.time() + 3.0 + args.clients * 0.02
    stop = start + args.seconds
    server = psutil.Process(server_pid)
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    shares = [[(i, u) for i, u in enumerate(urls) if i % args.procs == k] for k in range(args.procs)]
    workers = [ctx.Process(target=client_process, args=(s, args.rate, start, stop, out)) for s in shares]
    for w in workers:
        w.start()
    time.sleep(max(0.0, start - time.time()))
    cpu0 = sum(server.cpu_times()[:2])
    time.sleep(max(0.0, stop - time.time()))
    cpu1 = sum(server.cpu_times()[:2])
    parts = [out.get(timeout=args.seconds + 60) for _ in workers]
    for w in workers:
        w.join()
    stats = {k: sum(p[0][k] for p in parts) for k in parts[0][0]}
    hist = [sum(col) for col in zip(*(p[1] for p in parts), strict=True)]
    expected = stats["sent"] * (args.clients - 1)
    return {
        "clients": args.clients,
        "rate_hz": args.rate,
        "seconds": args.seconds,
        "poses_sent": stats["sent"],
        "pose_deliveries_expected": expected,
        "pose_deliveries_received": stats["received"],
        "superseded_share": round(1 - stats["received"] / expected, 4) if expected else 0.0,
        "poses_messages": stats["messages"],
        "state_changes": stats["changes"],
        "state_messages_lost": stats["changes"] * (args.clients - 1) - stats["states"],
        "connections_dropped": stats["dropped"],
        "latency_ms_p50": round(percentile(hist, 0.50), 1),
        "latency_ms_p99": round(percentile(hist, 0.99), 1),
        "latency_ms_max": round(percentile(hist, 1.0), 1),
        "server_cpu_core_share": round((cpu1 - cpu0) / args.seconds, 3),
        "clients_cpu_seconds": round(sum(p[2] for p in parts), 1),
    }


if __name__ == "__main__":
    main()
