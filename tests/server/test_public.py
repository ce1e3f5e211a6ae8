"""Public API: scenes, buildings GeoJSON, OGC API 3D GeoVolumes, pages, problem+json errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from buildfolder import make_build
from conftest import Env

from server import cli

PROBLEM = "application/problem+json"


def test_scene_list_and_one_scene(env: Env) -> None:
    scenes = env.client.get("/api/scenes").json()
    assert [s["id"] for s in scenes] == ["demo"]
    one = env.client.get("/api/scenes/demo").json()
    assert one["tileset_url"] == "http://testserver/tiles/demo/tileset.json"
    assert one["variants"][0]["tileset_url"] == "http://testserver/tiles/demo/variants/proposal/tileset.json"
    assert one["crs"] == "EPSG:25832" and one["bounds"] == [9.95, 53.56, 9.99, 53.58]
    assert env.client.get(one["tileset_url"]).status_code == 200


def test_unknown_scene_is_problem_json(env: Env) -> None:
    r = env.client.get("/api/scenes/nope")
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == 404 and "nope" in body["detail"]


def test_buildings_bbox(env: Env) -> None:
    r = env.client.get("/api/scenes/demo/buildings", params={"bbox": "9.955,53.565,9.975,53.575"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    ids = [f["id"] for f in r.json()["features"]]
    assert ids == ["way/0", "way/1"]
    far = env.client.get("/api/scenes/demo/buildings", params={"bbox": "0,0,1,1"}).json()
    assert far["features"] == []
    limited = env.client.get("/api/scenes/demo/buildings", params={"bbox": "-180,-90,180,90", "limit": 1})
    assert len(limited.json()["features"]) == 1


def test_buildings_bad_bbox(env: Env) -> None:
    for bad in ("1,2,3", "a,b,c,d", "10,0,5,1", "nan,0,1,1", "0,-100,1,1"):
        r = env.client.get("/api/scenes/demo/buildings", params={"bbox": bad})
        assert r.status_code == 400, bad
        assert r.headers["content-type"] == PROBLEM
    assert env.client.get("/api/scenes/demo/buildings").status_code == 422


def test_buildings_missing_footprints(env: Env) -> None:
    folder = env.settings.data_dir / "scenes" / "demo" / "builds" / env.published
    (folder / "buildings.geojson").unlink()
    r = env.client.get("/api/scenes/demo/buildings", params={"bbox": "0,0,1,1"})
    assert r.status_code == 404
    assert "no building footprints" in r.json()["detail"]


def test_ogc(env: Env) -> None:
    landing = env.client.get("/ogc").json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    conf = env.client.get("/ogc/conformance").json()["conformsTo"]
    assert any("geovolumes" in c for c in conf)
    cols = env.client.get("/ogc/collections").json()["collections"]
    assert [c["id"] for c in cols] == ["demo", "demo.contributions"]
    col = env.client.get("/ogc/collections/demo").json()
    assert col["collectionType"] == "3d-container"
    tiles = [c for c in col["content"] if c["type"] == "application/json+3dtiles"]
    assert env.client.get(tiles[0]["href"]).json()["asset"]["version"] == "1.1"
    assert env.client.get("/ogc/collections/nope").status_code == 404


def test_pages_and_openapi(env: Env, tmp_path: Path) -> None:
    assert "/api/scenes" in env.client.get("/openapi.json").json()["paths"]
    page = env.client.get("/planner/")
    assert page.status_code == 200 and "planner.js" in page.text
    assert env.client.get("/planner/planner.js").status_code == 200
    assert env.client.get("/planner", follow_redirects=False).status_code in (302, 307)
    assert "viewer is not built" in env.client.get("/").text


def test_viewer_served_at_root(tmp_path: Path) -> None:
    from conftest import make_settings
    from fastapi.testclient import TestClient

    from server.app import create_app

    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>viewer</title>")
    client = TestClient(create_app(make_settings(tmp_path, viewer_dir=dist)))
    assert "<title>viewer</title>" in client.get("/").text
    assert client.get("/api/scenes").json() == []


def test_settings_from_config_file(tmp_path: Path, monkeypatch: object) -> None:
    from server.settings import load_settings

    conf = tmp_path / "twin.toml"
    conf.write_text(f'[server]\ndata_dir = "{tmp_path}/d"\nport = 9000\nworkers = 3\n')
    s = load_settings(conf)
    assert (s.port, s.workers, s.data_dir) == (9000, 3, tmp_path / "d")
    monkeypatch.setenv("TWIN_PORT", "9100")  # type: ignore[attr-defined]
    assert load_settings(conf).port == 9100


def test_failed_variants_stay_off_the_public_scene(env: Env, tmp_path: Path) -> None:
    # A build whose scene.json lists a variant that failed (the planner's file name and the reason) is
    # published: the public scene document leaves the failure out; the planner's page has it.
    folder = tmp_path / "with-failure"
    make_build(folder, "v2")
    info = json.loads((folder / "scene.json").read_text())
    info["variants_failed"] = [{"id": "bad", "file": "Entwurf_intern_v3.ifc", "error": "unreadable IFC"}]
    (folder / "scene.json").write_text(json.dumps(info))
    cli.publish_folder(env.settings, "demo", folder)
    doc = env.client.get("/api/scenes/demo").json()
    assert "variants_failed" not in doc and "Entwurf_intern_v3.ifc" not in json.dumps(doc)
    listed = env.client.get("/api/scenes").json()
    assert "Entwurf_intern_v3.ifc" not in json.dumps(listed)
