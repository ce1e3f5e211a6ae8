"""Published scenes on S3 (moto's server, real HTTP): publish, serve, atomicity, redirects, nginx mode, twin build."""

# ruff: noqa: F811 - the fixtures s3_server and s3_bucket are imported from s3.py and named as arguments

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import trimesh
from fastapi.testclient import TestClient
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from buildfolder import make_build
from conftest import make_settings
from s3 import S3Server, s3_bucket, s3_server  # noqa: F401 - fixtures

from server import cli
from server.app import create_app
from server.settings import Settings
from server.store import SceneStore
from twin.errors import StoreError
from twin.storage import ObjectStorage

PREFIX = "twin"


def _app(tmp: Path, bucket: str, **kw: Any) -> tuple[TestClient, Settings]:
    settings = make_settings(tmp, store_url=f"{bucket}/{PREFIX}", store_pointer_ttl_seconds=0.0, **kw)
    return TestClient(create_app(settings)), settings


def _keys(s3: S3Server, bucket: str, prefix: str = "") -> set[str]:
    client = boto3.client("s3", endpoint_url=s3.endpoint, region_name="us-east-1")
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket[5:], Prefix=f"{PREFIX}/{prefix}")
    return {o["Key"][len(PREFIX) + 1 :] for page in pages for o in page.get("Contents", [])}


def test_published_scene_is_served_from_s3(tmp_path: Path, s3_bucket: str, s3_server: S3Server) -> None:
    client, settings = _app(tmp_path, s3_bucket)
    folder = tmp_path / "built"
    made = make_build(folder, "v1")
    build = cli.publish_folder(settings, "demo", folder)
    keys = _keys(s3_server, s3_bucket)
    assert "demo/published.json" in keys and f"demo/builds/{build}/scene.json" in keys
    assert f"demo/public-blobs/{made['blob'].split('/')[1]}" in keys
    assert not (settings.data_dir / "scenes" / "demo" / "published.json").exists()  # the bucket holds the truth
    for rel in ("tileset.json", made["blob"], "blobs/root.subtree", "variants/proposal/tileset.json"):
        r = client.get(f"/tiles/demo/{rel}", headers={"accept-encoding": "identity"})
        assert r.status_code == 200, rel
        assert r.content == (folder / rel).read_bytes(), rel
    glb = client.get(f"/tiles/demo/{made['blob']}")
    assert glb.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert len(trimesh.load(trimesh.util.wrap_as_stream(glb.content), file_type="glb", force="mesh").faces) == 12
    assert client.get(f"/tiles/demo/{made['blob']}", headers={"if-none-match": glb.headers["etag"]}).status_code == 304
    part = client.get(f"/tiles/demo/{made['blob']}", headers={"range": "bytes=4-11"})
    assert part.status_code == 206 and part.content == made["glb"][4:12]
    br = client.get("/tiles/demo/tileset.json", headers={"accept-encoding": "br"})
    assert br.headers["content-encoding"] == "br" and br.headers["cache-control"] == "public, no-cache"
    assert client.get("/tiles/demo/nothing.json").status_code == 404
    scenes = client.get("/api/scenes").json()
    assert [s["id"] for s in (scenes if isinstance(scenes, list) else scenes["scenes"])] == ["demo"]
    # unpublish deletes the pointer object; the tiles go at once (TTL 0 here)
    SceneStore.from_settings(settings).unpublish("demo")
    assert "demo/published.json" not in _keys(s3_server, s3_bucket)
    assert client.get("/tiles/demo/tileset.json").status_code == 404


def test_big_objects_stream_by_range(tmp_path: Path, s3_bucket: str) -> None:
    client, settings = _app(tmp_path, s3_bucket, tile_cache_file_bytes=256)
    folder = tmp_path / "built"
    made = make_build(folder, "v1")
    cli.publish_folder(settings, "demo", folder)
    r = client.get(f"/tiles/demo/{made['blob']}")
    assert r.status_code == 200 and r.content == made["glb"] and r.headers["etag"].startswith('"')
    part = client.get(f"/tiles/demo/{made['blob']}", headers={"range": "bytes=100-"})
    assert part.status_code == 206 and part.content == made["glb"][100:]


def test_reader_during_publish_sees_old_or_new(tmp_path: Path, s3_bucket: str) -> None:
    client, settings = _app(tmp_path, s3_bucket)
    builds = {}
    for label in ("v1", "v2"):
        made = make_build(tmp_path / label, label)
        builds[label] = made
    cli.publish_folder(settings, "demo", tmp_path / "v1")
    seen: list[str] = []
    errors: list[str] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            tileset = client.get("/tiles/demo/tileset.json").json()
            label = tileset["asset"]["tilesetVersion"]
            glb = client.get(f"/tiles/demo/{tileset['root']['content']['uri']}")
            if glb.status_code != 200 or glb.content != builds[label]["glb"]:
                errors.append(f"{label}: {glb.status_code}")
            seen.append(label)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        cli.publish_folder(settings, "demo", tmp_path / "v2")
        cli.publish_folder(settings, "demo", tmp_path / "v1")
        cli.publish_folder(settings, "demo", tmp_path / "v2")
    finally:
        done.set()
        reader.join()
    assert not errors
    assert seen and seen[-1] in ("v1", "v2")
    assert client.get("/tiles/demo/tileset.json").json()["asset"]["tilesetVersion"] == "v2"


def test_failed_upload_keeps_the_previous_publish(tmp_path: Path, s3_bucket: str, s3_server: S3Server) -> None:
    client, settings = _app(tmp_path, s3_bucket)
    make_build(tmp_path / "v1", "v1")
    cli.publish_folder(settings, "demo", tmp_path / "v1")
    store = SceneStore.from_settings(settings)
    make_build(tmp_path / "v2", "v2")
    store.import_folder("demo", "broken", tmp_path / "v2")
    # A file that vanishes mid-publish (after the blobs went up): the upload fails before tileset/scene.json.
    report = store.build_dir("demo", "broken") / "report.json"
    report.unlink()
    report.symlink_to(tmp_path / "gone.json")
    with pytest.raises(StoreError, match=r"report\.json"):
        store.publish("demo", "broken")
    keys = _keys(s3_server, s3_bucket, "demo/builds/broken/")
    assert any("/blobs/" in k for k in keys) and "demo/builds/broken/scene.json" not in keys
    assert "demo/builds/broken/tileset.json" not in keys
    assert store.published("demo") != "broken"
    assert client.get("/tiles/demo/tileset.json").json()["asset"]["tilesetVersion"] == "v1"
    store.remove_build("demo", "broken")
    assert _keys(s3_server, s3_bucket, "demo/builds/broken/") == set()


def _draft(settings: Settings, tmp: Path) -> tuple[str, dict[str, Any]]:
    made = make_build(tmp / "draft", "v2")
    SceneStore.from_settings(settings).import_folder("demo", "draft1", tmp / "draft")
    return "draft1", made


def test_presigned_redirect_fetches_from_s3_drafts_stay_here(
    tmp_path: Path, s3_bucket: str, s3_server: S3Server
) -> None:
    client, settings = _app(tmp_path, s3_bucket, tiles_redirect="presigned")
    made = make_build(tmp_path / "v1", "v1")
    cli.publish_folder(settings, "demo", tmp_path / "v1")
    r = client.get(f"/tiles/demo/{made['blob']}", follow_redirects=False)
    assert r.status_code == 307
    target = r.headers["location"]
    assert target.startswith(f"{s3_server.endpoint}/{s3_bucket[5:]}/{PREFIX}/demo/public-blobs/")
    assert "X-Amz-Signature=" in target
    assert httpx.get(target).content == made["glb"]
    # tileset.json is answered here (it changes with each publish; access rules stay with the server)
    assert client.get("/tiles/demo/tileset.json", follow_redirects=False).status_code == 200
    # a draft: never in the bucket, never redirected, answered privately from the local folder
    draft, dmade = _draft(settings, tmp_path)
    assert not _keys(s3_server, s3_bucket, f"demo/builds/{draft}/")
    p = client.get(f"/preview/demo/{draft}/{dmade['blob']}", follow_redirects=False)
    assert p.status_code == 200 and p.content == dmade["glb"] and p.headers["cache-control"].startswith("private")
    assert client.get(f"/tiles/demo/{dmade['blob']}", follow_redirects=False).status_code == 404


def test_redirect_to_public_base_only_names_public_blobs(tmp_path: Path, s3_bucket: str, s3_server: S3Server) -> None:
    bucket = s3_bucket[5:]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/{PREFIX}/*/public-blobs/*",
            }
        ],
    }
    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint, region_name="us-east-1")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    base = f"{s3_server.endpoint}/{bucket}/{PREFIX}"
    client, settings = _app(tmp_path, s3_bucket, tiles_redirect=base)
    made = make_build(tmp_path / "v1", "v1")
    build = cli.publish_folder(settings, "demo", tmp_path / "v1")
    r = client.get(f"/tiles/demo/{made['blob']}", follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"] == f"{base}/demo/public-{made['blob']}"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert httpx.get(r.headers["location"]).content == made["glb"]  # anonymous: the policy's public part
    assert httpx.get(f"{base}/demo/builds/{build}/tileset.json").status_code == 403  # the rest stays private
    # the subtree is no glb, so it is not in public-blobs: served here
    assert client.get("/tiles/demo/blobs/root.subtree", follow_redirects=False).status_code == 200


@pytest.mark.parametrize("backend", ["directory", "s3"])
def test_accel_redirect_names_the_published_only_root(tmp_path: Path, backend: str, request: Any) -> None:
    kw: dict[str, Any] = {"accel_redirect": "/_twin_blobs/"}
    if backend == "s3":
        kw.update(store_url=f"{request.getfixturevalue('s3_bucket')}/{PREFIX}", store_pointer_ttl_seconds=0.0)
    settings = make_settings(tmp_path, **kw)
    client = TestClient(create_app(settings))
    made = make_build(tmp_path / "v1", "v1")
    cli.publish_folder(settings, "demo", tmp_path / "v1")
    r = client.get(f"/tiles/demo/{made['blob']}")
    name = made["blob"].split("/")[1]
    assert r.status_code == 200 and r.content == b""
    assert r.headers["x-accel-redirect"] == f"/_twin_blobs/demo/public-blobs/{name}"
    assert r.headers["content-type"] == "model/gltf-binary"
    # the static root nginx is given holds published blobs only, with the same bytes
    if backend == "directory":
        assert (settings.data_dir / "scenes" / "demo" / "public-blobs" / name).read_bytes() == made["glb"]
    else:
        assert ObjectStorage(f"{settings.store_url}").get(f"demo/public-blobs/{name}") == made["glb"]
    assert "x-accel-redirect" not in client.get("/tiles/demo/tileset.json").headers
    draft, dmade = _draft(settings, tmp_path)
    p = client.get(f"/preview/demo/{draft}/{dmade['blob']}")
    assert "x-accel-redirect" not in p.headers and p.content == dmade["glb"]
    assert client.get(f"/tiles/demo/{dmade['blob']}").status_code == 404


def test_twin_build_out_s3_round_trip(tmp_path: Path, s3_bucket: str) -> None:
    from twin.cli import app

    settings = make_settings(tmp_path)
    manifest = settings.scenes_dir / "demo" / "scene.toml"
    url = f"{s3_bucket}/out/demo"
    runner = CliRunner()
    res = runner.invoke(app, ["build", str(manifest), "--out", url, "--jobs", "1", "--no-cache"])
    assert res.exit_code == 0, res.output
    local = tmp_path / "local"
    res = runner.invoke(app, ["build", str(manifest), "--out", str(local), "--jobs", "1", "--no-cache"])
    assert res.exit_code == 0, res.output
    storage = ObjectStorage(s3_bucket)
    keys = {k[len("out/demo/") :] for k in storage.keys("out/demo")}
    files = {p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()}
    assert keys == files and "scene.json" in keys
    for rel in files:
        if rel.endswith(".glb"):  # geometry: byte for byte
            assert storage.get(f"out/demo/{rel}") == (local / rel).read_bytes(), rel
        elif rel.endswith("tileset.json"):  # the same tree; only the build id (tilesetVersion) differs
            ours, theirs = json.loads(storage.get(f"out/demo/{rel}")), json.loads((local / rel).read_bytes())
            ours["asset"].pop("tilesetVersion"), theirs["asset"].pop("tilesetVersion")
            assert ours == theirs, rel
    # the server imports the build straight from the bucket and serves it
    s3_settings = make_settings(tmp_path, store_url=f"{s3_bucket}/{PREFIX}", store_pointer_ttl_seconds=0.0)
    cli.publish_folder(s3_settings, "demo", url)
    client = TestClient(create_app(s3_settings))
    served = client.get("/tiles/demo/tileset.json", headers={"accept-encoding": "identity"})
    assert served.content == storage.get("out/demo/tileset.json")


def test_store_down_is_503_in_seconds_and_odd_paths_404(tmp_path: Path, s3_bucket: str) -> None:
    from liveserver import free_port

    dead = make_settings(tmp_path / "dead", store_url="s3://nowhere/x", s3_endpoint=f"http://127.0.0.1:{free_port()}")
    client = TestClient(create_app(dead))
    t = time.monotonic()
    r = client.get("/tiles/demo/tileset.json")
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
    assert client.get("/api/scenes").status_code == 503
    assert time.monotonic() - t < 20
    client, settings = _app(tmp_path, s3_bucket)
    make_build(tmp_path / "v1", "v1")
    cli.publish_folder(settings, "demo", tmp_path / "v1")
    for path in (
        "/tiles/demo/.tileset.json",
        "/tiles/Demo/tileset.json",
        "/tiles/demo/blobs/%2e%2e/scene.json",
        "/tiles/demo/tileset.exe",
        "/tiles/demo/",
    ):
        assert client.get(path).status_code == 404, path
