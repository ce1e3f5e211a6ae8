"""Design uploads: stored whole or not at all; variants and placements."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from buildfolder import box_glb
from conftest import BOTH_IN_FULL_RUN, Env, both_databases

#: The tests mostly exercise the sandbox: on PostgreSQL in the full run (TWIN_TEST_POSTGRES=all), and those
#: marked ``both_databases`` in every run (tests/server/conftest.py).
DATABASES = BOTH_IN_FULL_RUN


URL = "/api/planner/scenes/demo/uploads"


def glb_from_json(doc: dict[str, object], binary: bytes = b"") -> bytes:
    """A GLB container around a glTF JSON document (and an optional BIN chunk)."""
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    body = struct.pack("<I4s", len(text), b"JSON") + text
    if binary:
        binary += b"\0" * (-len(binary) % 4)
        body += struct.pack("<I4s", len(binary), b"BIN\0") + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


def nothing_stored(env: Env) -> None:
    data = env.settings.data_dir
    assert not any((data / "uploads").glob("*")) if (data / "uploads").exists() else True
    assert not any((data / "tmp").glob("*")) if (data / "tmp").exists() else True
    assert env.client.get(URL, headers=env.planner).json() == []


@both_databases
def test_good_glb_upload(env: Env) -> None:
    glb = box_glb(8.0)
    r = env.client.post(URL, params={"filename": "../../house.glb"}, content=glb, headers=env.planner)
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["format"] == "glb" and up["size"] == len(glb) and up["filename"] == "house.glb"
    assert up["info"]["triangles"] == 12
    stored = env.settings.data_dir / "uploads" / up["id"] / "design.glb"
    assert stored.read_bytes() == glb
    assert [u["id"] for u in env.client.get(URL, headers=env.planner).json()] == [up["id"]]
    assert not any((env.settings.data_dir / "tmp").glob("*"))


def test_upload_needs_scope(env: Env) -> None:
    assert env.client.post(URL, content=box_glb(), headers=env.other).status_code == 404
    assert env.client.post(URL, content=box_glb()).status_code == 401


@pytest.mark.parametrize(
    "case",
    [
        "truncated",
        "garbage",
        "empty",
        "zip",
        "external_buffer",
        "external_image",
        "bomb",
        "json_not_gltf",
        "no_triangles",
    ],
)
def test_bad_uploads_are_4xx_and_leave_nothing(env: Env, case: str) -> None:
    glb = box_glb()
    body = {
        "truncated": glb[: len(glb) // 2],
        "garbage": bytes(range(256)) * 10,
        "empty": b"",
        "zip": b"PK\x03\x04" + b"\0" * 100,
        "external_buffer": json.dumps(
            {"asset": {"version": "2.0"}, "buffers": [{"uri": "http://example.org/a.bin", "byteLength": 8}]}
        ).encode(),
        "external_image": glb_from_json({"asset": {"version": "2.0"}, "images": [{"uri": "/etc/passwd"}]}),
        "bomb": glb_from_json(
            {
                "asset": {"version": "2.0"},
                "buffers": [{"byteLength": 8}],
                "bufferViews": [
                    {
                        "buffer": 0,
                        "byteLength": 8,
                        "extensions": {
                            "EXT_meshopt_compression": {
                                "buffer": 0,
                                "byteLength": 8,
                                "byteStride": 4096,
                                "count": 10**9,
                                "mode": "ATTRIBUTES",
                            }
                        },
                    }
                ],
            },
            b"\0" * 8,
        ),
        "json_not_gltf": b'{"hello": "world"}',
        "no_triangles": glb_from_json({"asset": {"version": "2.0"}, "scenes": [{"nodes": []}], "scene": 0}),
    }[case]
    r = env.client.post(URL, params={"filename": f"{case}.glb"}, content=body, headers=env.planner)
    assert 400 <= r.status_code < 500, (case, r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    detail = r.json()["detail"]
    assert detail
    # The message names the planner's file, never the server's temporary paths.
    assert "upload.bin" not in detail and "/tmp" not in detail and str(env.settings.data_dir) not in detail
    if case not in ("empty", "zip"):
        assert f"{case}.glb" in detail, detail
    if case == "bomb":
        assert r.status_code == 413
    if case in ("external_buffer", "external_image"):
        assert "external" in r.json()["detail"]
    nothing_stored(env)


def test_oversize_upload(tmp_path: Path) -> None:
    from conftest import make_settings
    from fastapi.testclient import TestClient

    from server import cli
    from server.app import create_app

    settings = make_settings(tmp_path, max_upload_bytes=500)
    client = TestClient(create_app(settings))
    token = {"Authorization": "Bearer " + cli.token_create(settings, "planner", ["demo"], "p")}
    big = box_glb() + b"\0" * 1000

    def chunks():  # no Content-Length: the limit must hold while streaming too
        yield big[:300]
        yield big[300:]

    for content in (big, chunks()):
        r = client.post(URL, content=content, headers=token)
        assert r.status_code == 413
        assert "limit" in r.json()["detail"]
    assert not any((settings.data_dir / "tmp").glob("*"))
    assert client.get(URL, headers=token).json() == []


@both_databases
def test_variants_and_placement(env: Env) -> None:
    up = env.client.post(URL, content=box_glb(), headers=env.planner).json()
    base = "/api/planner/scenes/demo/variants/proposal"
    r = env.client.put(base, json={"title": "Proposal"}, headers=env.planner)
    assert r.status_code == 200 and r.json()["designs"] == []
    anchor = {"lon": 9.97, "lat": 53.57, "elevation": 0, "heading": 30, "scale": 1}
    r = env.client.put(
        f"{base}/designs/house", headers=env.planner, json={"upload": up["id"], "title": "House", "anchor": anchor}
    )
    assert r.status_code == 200, r.text
    assert r.json()["designs"][0]["anchor"]["heading"] == 30
    # an anchor with neither lon/lat nor easting/northing/crs is refused by twin's own rules
    r = env.client.put(
        f"{base}/designs/bad",
        headers=env.planner,
        json={"upload": up["id"], "title": "Bad", "anchor": {"elevation": 3}},
    )
    assert r.status_code == 422 and "anchor" in r.json()["detail"]
    r = env.client.put(
        f"{base}/designs/ghost", headers=env.planner, json={"upload": "u-nope", "title": "Ghost", "anchor": anchor}
    )
    assert r.status_code == 404
    assert env.client.delete(f"/api/planner/scenes/demo/uploads/{up['id']}", headers=env.planner).status_code == 409
    assert env.client.delete(f"{base}/designs/house", headers=env.planner).status_code == 204
    assert env.client.delete(f"/api/planner/scenes/demo/uploads/{up['id']}", headers=env.planner).status_code == 204
    assert not (env.settings.data_dir / "uploads" / up["id"]).exists()
    assert env.client.delete(base, headers=env.planner).status_code == 204
    assert env.client.get(base, headers=env.planner).status_code == 404
    assert env.client.put(
        "/api/planner/scenes/demo/variants/Bad..", json={"title": "x"}, headers=env.planner
    ).status_code in (404, 422)
