"""In-process cost of one tile request (the ASGI handler alone, no HTTP server), this tree against a revision.

    python bench/serve/handler.py [--rev REV] [--folder BUILD_FOLDER] [--rounds 5]

Publishes the folder into a temp data dir and calls ``TileServer.__call__`` for tileset.json and the median
glb in a loop (best of 7 batches of 20,000). With ``--rev`` the same measurement runs in a child process on
``git archive REV server twin``, alternating with this tree ``--rounds`` times; the medians and their ratio
are printed. Much less noisy than wrk on a shared machine: it measures only what server/tiles.py does.
``--store s3`` measures the object-store tile server instead (server/objectstore.py, the folder published to
a moto S3 server started here; after the first request every answer comes from memory, as in production).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _s3_store(data: Path) -> Any:
    """A SceneStore over a bucket of a moto S3 server started in this process."""
    from liveserver import free_port
    from moto.server import ThreadedMotoServer

    from server.store import SceneStore
    from twin.storage import ObjectStorage

    port = free_port()
    ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1")
    objects = ObjectStorage("s3://bench-tiles/twin", endpoint=f"http://127.0.0.1:{port}")
    import boto3

    boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1").create_bucket(
        Bucket="bench-tiles"
    )
    return SceneStore(data, objects)


def measure(folder: Path | None, backend: str = "directory") -> dict[str, float]:
    """µs per request for tileset.json and the median glb, best of 7 batches."""
    sys.path.insert(0, str(ROOT / "tests" / "server"))
    import logging

    from server.store import SceneStore
    from server.tiles import TileServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    work = Path(tempfile.mkdtemp(prefix="twin-handler-"))
    if folder is None:
        from buildfolder import make_build

        folder = work / "build"
        make_build(folder)
    store = SceneStore(work / "data") if backend == "directory" else _s3_store(work / "data")
    store.import_folder("bench", "b1", folder)
    store.publish("bench", "b1")
    glbs = sorted(folder.glob("blobs/*.glb"), key=lambda p: p.stat().st_size)
    glb = glbs[len(glbs) // 2].relative_to(folder).as_posix()
    if backend == "directory":
        server = TileServer(store)
    else:
        from server.objectstore import ObjectTileServer

        server = ObjectTileServer(store, store.objects, pointer_ttl=1.0)

    async def send(message: Any) -> None:
        pass

    async def receive() -> Any:
        return {}

    async def run() -> dict[str, float]:
        out = {}
        for name, path in (("tileset.json", "tileset.json"), ("glb", glb)):
            headers = [(b"host", b"bench"), (b"accept-encoding", b"gzip, br"), (b"user-agent", b"wrk")]
            scope = {"type": "http", "method": "GET", "path": f"/tiles/bench/{path}", "headers": headers}
            best = float("inf")
            for _ in range(7):
                t = time.perf_counter()
                for _ in range(20_000):
                    await server(scope, receive, send)
                best = min(best, (time.perf_counter() - t) / 20_000)
            out[name] = best * 1e6
        return out

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rev", default=None)
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--store", choices=["directory", "s3"], default="directory")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # child: print one measurement
    args = parser.parse_args()
    if args.one or not args.rev:
        print(json.dumps(measure(args.folder, args.store)), flush=True)
        os._exit(0)  # the moto server's thread would keep the process alive
    tree = Path(tempfile.mkdtemp(prefix="twin-handler-rev-"))
    git = ["git", "-C", str(ROOT), "archive", args.rev, "server", "twin"]
    archive = subprocess.run(git, check=True, capture_output=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, filter="data")
    folder = [str(args.folder.resolve())] if args.folder else []
    results: dict[str, dict[str, list[float]]] = {args.rev: {}, "working tree": {}}
    for _ in range(args.rounds):
        for side, path in ((args.rev, tree), ("working tree", ROOT)):
            env = {**os.environ, "PYTHONPATH": str(path)}
            cmd = [sys.executable, __file__, "--one", *(["--folder", *folder] if folder else [])]
            got = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout)
            for target, us in got.items():
                results[side].setdefault(target, []).append(us)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} load {load}, {args.rounds} rounds, µs/request")
    for target in results["working tree"]:
        a = statistics.median(results[args.rev][target])
        b = statistics.median(results["working tree"][target])
        print(f"{target:<14} {args.rev}: {a:6.2f} µs   working tree: {b:6.2f} µs   ratio {b / a:.3f}")


if __name__ == "__main__":
    main()
