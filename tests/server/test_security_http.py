"""Issue 20 through the ASGI app: limits before parsing, links, cache headers, previews, placements, disks, leaks."""

from __future__ import annotations

import errno
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from buildfolder import box_glb
from conftest import Env, make_settings
from fastapi.testclient import TestClient

from server import cli, planning
from server.app import create_app
from server.settings import Settings

VARIANT = "/api/planner/scenes/demo/variants/proposal"
UPLOADS = "/api/planner/scenes/demo/uploads"


# limits and authentication before any body is read -------------------------------------------------------
def test_a_body_without_a_token_is_refused_before_it_is_parsed(env: Env) -> None:
    # Not JSON at all: a 401 (not a 422) shows nothing parsed it.
    r = env.client.put(VARIANT, content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "Bearer"
    bad = {"Authorization": "Bearer twin_" + "x" * 43, "Content-Type": "application/json"}
    assert env.client.put(VARIANT, content=b"{not json", headers=bad).status_code == 401


def test_json_bodies_over_the_limit_get_413_declared_or_streamed(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_body_bytes=1000)
    client = TestClient(create_app(settings))
    token = {"Authorization": "Bearer " + cli.token_create(settings, "planner", ["demo"], "p")}
    body = json.dumps({"title": "x" * 2000}).encode()
    r = client.put(VARIANT, content=body, headers={**token, "Content-Type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["detail"]

    def chunks() -> Any:  # no Content-Length: the limit holds while the body streams
        yield body[:600]
        yield body[600:]

    r = client.put(VARIANT, content=chunks(), headers={**token, "Content-Type": "application/json"})
    assert r.status_code == 413
    ok = client.put(VARIANT, json={"title": "Small"}, headers=token)
    assert ok.status_code == 200


# links, proxies, caches ------------------------------------------------------------------------------------
def test_a_forged_host_never_reaches_generated_links(env: Env) -> None:
    for path in ("/api/scenes", "/api/scenes/demo", "/ogc", "/ogc/collections", "/ogc/collections/demo"):
        r = env.client.get(path, headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
        assert r.status_code == 200 and "evil.example" not in r.text, path
        assert r.headers["cache-control"] == "public, no-cache" and "Host" in r.headers["vary"]
    builds = env.client.get("/api/planner/scenes/demo/builds", headers={**env.planner, "Host": "evil.example"})
    assert "evil.example" not in builds.text


def test_a_configured_public_url_writes_every_link(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, public_url="https://twin.example.org")
    client = TestClient(create_app(settings))
    from buildfolder import make_build

    make_build(tmp_path / "b", "v1")
    cli.publish_folder(settings, "demo", tmp_path / "b")
    doc = client.get("/api/scenes/demo", headers={"Host": "localhost"}).json()
    assert doc["tileset_url"] == "https://twin.example.org/tiles/demo/tileset.json"
    assert "Host" not in client.get("/api/scenes").headers.get("vary", "")


def test_private_answers_are_never_stored(env: Env) -> None:
    for path in ("/api/planner/scenes", "/api/planner/scenes/demo", "/api/planner/scenes/demo/builds"):
        r = env.client.get(path, headers=env.planner)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store", path
    assert env.client.get("/api/admin/tokens", headers=env.admin).headers["cache-control"] == "no-store"
    assert env.client.get("/api/planner/scenes").headers["cache-control"] == "no-store"  # 401s too


def test_previews_are_private_and_same_origin(env: Env) -> None:
    base = f"/preview/demo/{env.published}/"
    for name in ("tileset.json", env.build["blob"]):
        r = env.client.get(base + name, headers={"Origin": "https://evil.example"})
        assert r.status_code == 200
        assert "access-control-allow-origin" not in r.headers
        assert r.headers["cache-control"].startswith("private")
        assert r.headers["referrer-policy"] == "no-referrer"
    # the same blob through the public path stays public and open to every origin
    r = env.client.get(f"/tiles/demo/{env.build['blob']}", headers={"Origin": "https://a.example"})
    assert r.headers["cache-control"].startswith("public") and r.headers["access-control-allow-origin"] == "*"


# placements are checked when written -----------------------------------------------------------------------
def _upload(env: Env) -> str:
    r = env.client.post(UPLOADS, content=box_glb(), headers=env.planner)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.mark.parametrize(
    ("anchor", "words"),
    [
        ({"easting": 565000, "northing": 5933000, "crs": "+proj=utm +zone=32 +ellps=GRS80"}, "EPSG code"),
        ({"easting": 565000, "northing": 5933000, "crs": "EPSG:999999"}, "not a known CRS"),
        ({"easting": 565000, "northing": 5933000, "crs": "EPSG:4326"}, "not projected"),
        ({"easting": 1e12, "northing": 1e12, "crs": "EPSG:25832"}, "not a place on Earth"),
        ({"lon": -120.0, "lat": -45.0}, "far outside"),
    ],
)
def test_a_careless_placement_is_refused_with_a_clear_message(env: Env, anchor: dict[str, Any], words: str) -> None:
    upload = _upload(env)
    env.client.put(VARIANT, json={"title": "P"}, headers=env.planner)
    r = env.client.put(
        f"{VARIANT}/designs/house", json={"upload": upload, "title": "H", "anchor": anchor}, headers=env.planner
    )
    assert r.status_code == 422 and words in r.json()["detail"], r.json()
    assert env.client.get(VARIANT, headers=env.planner).json()["designs"] == []


def test_a_placement_in_utm_near_the_scene_is_accepted(env: Env) -> None:
    upload = _upload(env)
    env.client.put(VARIANT, json={"title": "P"}, headers=env.planner)
    anchor = {"easting": 565500, "northing": 5935500, "crs": "EPSG:25832"}
    r = env.client.put(
        f"{VARIANT}/designs/house", json={"upload": upload, "title": "H", "anchor": anchor}, headers=env.planner
    )
    assert r.status_code == 200, r.text


# quotas and broken disks ------------------------------------------------------------------------------------
def test_the_scene_quota_stops_the_same_upload_stored_again_and_again(tmp_path: Path) -> None:
    glb = box_glb()
    settings = make_settings(tmp_path, scene_quota_bytes=int(len(glb) * 2.5), scene_quota_uploads=10)
    client = TestClient(create_app(settings))
    token = {"Authorization": "Bearer " + cli.token_create(settings, "planner", ["demo"], "p")}
    codes = [client.post(UPLOADS, content=glb, headers=token).status_code for _ in range(3)]
    assert codes == [201, 201, 507]
    r = client.post(UPLOADS, content=glb, headers=token)
    assert r.status_code == 507 and "quota" in r.json()["detail"]
    assert r.headers["content-type"] == "application/problem+json"
    settings2 = make_settings(tmp_path / "two", scene_quota_uploads=1)
    client2 = TestClient(create_app(settings2))
    token2 = {"Authorization": "Bearer " + cli.token_create(settings2, "planner", ["demo"], "p")}
    assert client2.post(UPLOADS, content=glb, headers=token2).status_code == 201
    assert client2.post(UPLOADS, content=glb, headers=token2).status_code == 507


def _failing(code: int) -> Any:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise OSError(code, errno.errorcode[code])

    return fail


def test_a_full_disk_answers_507_and_a_read_only_one_503(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    import twin.store

    url = f"/api/planner/scenes/demo/builds/{env.published}/publish"
    monkeypatch.setattr(twin.store.tempfile, "mkstemp", _failing(errno.ENOSPC))
    r = env.client.post(url, headers=env.planner)
    assert r.status_code == 507 and "disk is full" in r.json()["detail"]
    monkeypatch.setattr(twin.store.tempfile, "mkstemp", _failing(errno.EROFS))
    r = env.client.post(url, headers=env.planner)
    assert r.status_code == 503 and "read-only" in r.json()["detail"]
    assert "/" not in r.json()["detail"].replace("read-only", "")  # no server path in the answer


def test_a_read_only_database_answers_503_but_a_bad_token_still_401(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    def readonly(*args: Any, **kwargs: Any) -> Any:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(type(env.client.app.state.db.tokens), "by_digest", readonly)  # type: ignore[attr-defined]
    assert env.client.get("/api/planner/scenes", headers={"Authorization": "Bearer nope"}).status_code == 401
    r = env.client.get("/api/planner/scenes", headers=env.planner)
    assert r.status_code == 503 and "cannot be written" in r.json()["detail"]


# leaks -------------------------------------------------------------------------------------------------------
def test_planner_answers_show_no_server_paths(env: Env) -> None:
    text = env.client.get("/api/planner/scenes", headers=env.planner).text
    assert str(env.tmp) not in text and "manifest" not in text


def test_build_errors_show_no_paths_or_tracebacks(env: Env) -> None:
    from server.deps import Context

    ctx: Context = env.client.app.state.ctx  # type: ignore[attr-defined]
    data = Path(env.settings.data_dir).resolve()
    log = (
        f"reading {data}/uploads/u1/design.glb\n"
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3/x.py", line 3, in f\n'
        "    raise ValueError(x)\n"
        f"ValueError: bad mesh in {data}/uploads/u1/design.glb\n"
    )
    out = planning.redact(ctx, log)
    assert out is not None
    assert str(data) not in out and "Traceback" not in out and "x.py" not in out
    assert "ValueError: bad mesh in <data>/uploads/u1/design.glb" in out


def test_settings_reject_a_forged_host_in_links() -> None:
    s = Settings()
    assert s.base_url_for("http", "evil.example") == "http://127.0.0.1:8000/"
    assert s.base_url_for("http", "localhost:8000/evil") == "http://127.0.0.1:8000/"
    assert s.base_url_for("https", "localhost:8443") == "https://localhost:8443/"
