"""The tile fast path: media types, caching headers, compression, ranges, HEAD, CORS, traversal, publish."""

from __future__ import annotations

import gzip
import json
import sys
import threading
from pathlib import Path

import brotli
import pytest
import trimesh

sys.path.insert(0, str(Path(__file__).parent))
from buildfolder import make_build
from conftest import Env

from server import cli
from server.tiles import parse_range


def test_tileset_json_revalidates_and_decodes(env: Env) -> None:
    r = env.client.get("/tiles/demo/tileset.json", headers={"accept-encoding": "identity"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.headers["cache-control"] == "public, no-cache"
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.json()["asset"]["tilesetVersion"] == "v1"
    assert "content-encoding" not in r.headers


def test_glb_is_immutable_and_loads(env: Env) -> None:
    r = env.client.get(f"/tiles/demo/{env.build['blob']}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "model/gltf-binary"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.content == env.build["glb"]
    mesh = trimesh.load(trimesh.util.wrap_as_stream(r.content), file_type="glb", force="mesh")
    assert len(mesh.faces) == 12


def test_subtree_media_type(env: Env) -> None:
    r = env.client.get("/tiles/demo/blobs/root.subtree")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/octet-stream"


def test_variant_relative_uri_resolves(env: Env) -> None:
    variant = env.client.get("/tiles/demo/variants/proposal/tileset.json").json()
    uri = variant["root"]["content"]["uri"]
    assert uri.startswith("../../blobs/")
    resolved = "/tiles/demo/" + uri.removeprefix("../../")
    assert env.client.get(resolved).content == env.build["glb"]


@pytest.mark.parametrize("encoding,decode", [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_precompressed_json(env: Env, encoding: str, decode: object) -> None:
    # httpx would decode the body itself; ask for the raw bytes through a stream.
    with env.client.stream("GET", "/tiles/demo/tileset.json", headers={"accept-encoding": encoding}) as r:
        raw = b"".join(r.iter_raw())
    assert r.headers["content-encoding"] == encoding
    assert r.headers["vary"] == "Accept-Encoding"
    assert int(r.headers["content-length"]) == len(raw)
    assert json.loads(decode(raw))["asset"]["version"] == "1.1"  # type: ignore[operator]


def test_refused_encoding_is_not_sent(env: Env) -> None:
    r = env.client.get("/tiles/demo/tileset.json", headers={"accept-encoding": "br;q=0, gzip"})
    assert r.headers["content-encoding"] == "gzip"


def test_etag_304(env: Env) -> None:
    for path in ("/tiles/demo/tileset.json", f"/tiles/demo/{env.build['blob']}"):
        first = env.client.get(path, headers={"accept-encoding": "br"})
        etag = first.headers["etag"]
        again = env.client.get(path, headers={"if-none-match": etag, "accept-encoding": "br"})
        assert again.status_code == 304, path
        assert again.content == b""
        assert again.headers["etag"] == etag
        other = env.client.get(path, headers={"if-none-match": '"nope"'})
        assert other.status_code == 200


def test_range_requests(env: Env) -> None:
    path = f"/tiles/demo/{env.build['blob']}"
    glb = env.build["glb"]
    r = env.client.get(path, headers={"range": "bytes=0-11"})
    assert r.status_code == 206
    assert r.content == glb[:12]
    assert r.headers["content-range"] == f"bytes 0-11/{len(glb)}"
    r = env.client.get(path, headers={"range": "bytes=-4"})
    assert r.status_code == 206 and r.content == glb[-4:]
    r = env.client.get(path, headers={"range": f"bytes=10-{len(glb) + 100}"})
    assert r.status_code == 206 and r.content == glb[10:]
    r = env.client.get(path, headers={"range": f"bytes={len(glb)}-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{len(glb)}"
    assert r.headers["content-type"] == "application/problem+json"
    r = env.client.get(path, headers={"range": "bytes=0-1,4-5"})  # multiple ranges: whole file
    assert r.status_code == 200 and r.content == glb


def test_parse_range_edges() -> None:
    assert parse_range("bytes=0-0", 10) == (0, 0)
    assert parse_range("bytes=5-", 10) == (5, 9)
    assert parse_range("bytes=-20", 10) == (0, 9)
    assert parse_range("bytes=-0", 10) is False
    assert parse_range("bytes=3-1", 10) is None
    assert parse_range("items=0-1", 10) is None
    assert parse_range("bytes=10-", 10) is False


def test_head_and_methods(env: Env) -> None:
    r = env.client.head(f"/tiles/demo/{env.build['blob']}")
    assert r.status_code == 200
    assert r.content == b""
    assert int(r.headers["content-length"]) == len(env.build["glb"])
    r = env.client.post("/tiles/demo/tileset.json")
    assert r.status_code == 405
    assert r.headers["content-type"] == "application/problem+json"


def test_cors_preflight(env: Env) -> None:
    r = env.client.options(
        "/tiles/demo/tileset.json",
        headers={
            "origin": "https://example.org",
            "access-control-request-method": "GET",
            "access-control-request-headers": "range",
        },
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "Range" in r.headers["access-control-allow-headers"]


def raw_get(app: object, path: str) -> tuple[int, dict[bytes, bytes], bytes]:
    """Call the ASGI app with ``path`` exactly as a server would pass it (decoded, not normalised)."""
    import asyncio

    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "headers": [],
        "query_string": b"",
        "http_version": "1.1",
        "scheme": "http",
        "server": ("t", 80),
        "root_path": "",
        "client": ("127.0.0.1", 1),
    }
    out: dict[str, object] = {"body": b""}

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            out["status"], out["headers"] = message["status"], dict(message["headers"])  # type: ignore[call-overload]
        else:
            out["body"] = out["body"] + message.get("body", b"")  # type: ignore[operator]

    # A fresh event loop in its own thread: browser tests may have one running in this thread already.
    thread = threading.Thread(target=lambda: asyncio.run(app(scope, receive, send)))  # type: ignore[operator]
    thread.start()
    thread.join()
    return out["status"], out["headers"], out["body"]  # type: ignore[return-value]


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/demo/../demo/tileset.json",
        "/tiles/demo/../../twin.db",
        "/tiles/demo/..%2f..%2ftwin.db",
        "/tiles/demo/blobs/../../published.json",
        "/tiles/../scenes/demo/published.json",
        "/tiles/demo/.cache/state.pickle",
        "/tiles/demo/report.json.gz",
        "/tiles/demo//etc/passwd",
        "/tiles/demo/blobs",
        "/tiles/demo/blobs/",
        "/tiles/Demo/tileset.json",
        "/tiles/demo",
        "/tiles/demo/tileset.json\x00",
        "/tiles/demo/C:\\twin.db",
        "/preview/demo/../../twin.db",
    ],
)
def test_traversal_and_odd_paths_are_404(env: Env, path: str) -> None:
    status, headers, body = raw_get(env.client.app, path)
    assert status in (400, 404), path
    assert headers[b"content-type"] == b"application/problem+json"
    assert b"tileset" not in body and b"SQLite" not in body
    # and through a real HTTP client (which normalises dot segments) the answer is never a stored secret
    r = env.client.get(path.replace("\x00", "%00"))
    assert b"SQLite" not in r.content


def test_publish_switch_is_seen_at_once_and_unpublish_hides(env: Env) -> None:
    assert env.client.get("/tiles/demo/tileset.json").json()["asset"]["tilesetVersion"] == "v1"
    make_build(env.tmp / "v2", "v2")
    cli.publish_folder(env.settings, "demo", env.tmp / "v2")
    assert env.client.get("/tiles/demo/tileset.json").json()["asset"]["tilesetVersion"] == "v2"
    # A viewer still holding v1's tileset.json keeps loading v1's (immutable, once public) blobs.
    old_blob = env.client.get(f"/tiles/demo/{env.build['blob']}")
    assert old_blob.status_code == 200 and old_blob.content == env.build["glb"]
    # ... but nothing else is (drafts' blobs never join the public pool: see test_builds.py).
    assert env.client.get(f"/tiles/demo/blobs/{'0' * 32}.glb").status_code == 404
    r = env.client.delete("/api/planner/scenes/demo/published", headers=env.planner)
    assert r.status_code == 204
    assert env.client.get("/tiles/demo/tileset.json").status_code == 404
    assert env.client.get("/api/scenes/demo").status_code == 404


def test_large_files_stream_with_ranges(tmp_path: Path) -> None:
    from conftest import make_settings
    from fastapi.testclient import TestClient

    from server.app import create_app

    settings = make_settings(tmp_path, tile_cache_file_bytes=1000)
    client = TestClient(create_app(settings))
    info = make_build(tmp_path / "b", "v1")
    big = bytes(range(256)) * 4000
    (tmp_path / "b" / "blobs" / "big.glb").write_bytes(big)
    cli.publish_folder(settings, "demo", tmp_path / "b")
    assert client.get("/tiles/demo/blobs/big.glb").content == big
    r = client.get("/tiles/demo/blobs/big.glb", headers={"range": "bytes=1000-299999"})
    assert r.status_code == 206 and r.content == big[1000:300000]
    etag = r.headers["etag"]
    assert client.get("/tiles/demo/blobs/big.glb", headers={"if-none-match": etag}).status_code == 304
    assert client.get(f"/tiles/demo/{info['blob']}").status_code == 200
