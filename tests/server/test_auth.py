"""Tokens and roles: hashed storage, bearer auth, planner scope, admin routes."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from conftest import BOTH, Env

from server import cli
from server.storage import Connection

#: Every test here runs on SQLite and on PostgreSQL (tests/server/conftest.py).
DATABASES = BOTH


def test_no_or_bad_token_is_401(env: Env) -> None:
    r = env.client.get("/api/planner/scenes")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "Bearer"
    assert env.client.get("/api/planner/scenes", headers={"Authorization": "Bearer twin_nope"}).status_code == 401


def test_tokens_are_stored_hashed(env: Env) -> None:
    secret = env.planner["Authorization"].split()[1]
    stored = [r["hash"] for r in Connection(env.settings.database).all("SELECT hash FROM tokens")]
    assert secret not in stored and all(len(h) == 64 for h in stored)


def test_planner_scope(env: Env) -> None:
    assert [s["id"] for s in env.client.get("/api/planner/scenes", headers=env.planner).json()] == ["demo"]
    assert env.client.get("/api/planner/scenes", headers=env.other).json() == []
    # outside the scope: the same 404 as a scene that does not exist
    r = env.client.get("/api/planner/scenes/demo", headers=env.other)
    assert r.status_code == 404
    assert r.json()["detail"] == env.client.get("/api/planner/scenes/zzz", headers=env.admin).json()["detail"].replace(
        "zzz", "demo"
    )
    assert env.client.get("/api/planner/scenes/demo", headers=env.planner).status_code == 200
    assert env.client.get("/api/admin/tokens", headers=env.planner).status_code == 403


def test_admin_tokens_and_revoke(env: Env) -> None:
    r = env.client.post(
        "/api/admin/tokens", headers=env.admin, json={"role": "planner", "name": "carol", "scenes": ["demo"]}
    )
    assert r.status_code == 201
    made = r.json()
    carol = {"Authorization": f"Bearer {made['token']}"}
    assert env.client.get("/api/planner/scenes", headers=carol).status_code == 200
    listed = env.client.get("/api/admin/tokens", headers=env.admin).json()
    assert all(t["token"] is None for t in listed)
    assert env.client.delete(f"/api/admin/tokens/{made['id']}", headers=env.admin).status_code == 204
    assert env.client.get("/api/planner/scenes", headers=carol).status_code == 401
    assert env.client.delete("/api/admin/tokens/9999", headers=env.admin).status_code == 404


def test_cli_token_functions(env: Env) -> None:
    secret = cli.token_create(env.settings, "planner", ["*"], "dave")
    assert secret.startswith("twin_")
    tokens = cli.token_list(env.settings)
    dave = next(t for t in tokens if t["name"] == "dave")
    assert dave["scenes"] == ["*"] and "hash" not in dave
    cli.token_revoke(env.settings, dave["id"])
    assert next(t for t in cli.token_list(env.settings) if t["name"] == "dave")["revoked"] is not None


def test_admin_scene_registration(env: Env) -> None:
    r = env.client.put("/api/admin/scenes/demo2", headers=env.admin, json={"title": "Demo 2"})
    assert r.status_code == 422  # no manifest at scenes/demo2/scene.toml
    manifest = str(env.settings.scenes_dir / "demo" / "scene.toml")
    r = env.client.put("/api/admin/scenes/demo2", headers=env.admin, json={"title": "Demo 2", "manifest": manifest})
    assert r.status_code == 200
    assert "demo2" in [s["id"] for s in env.client.get("/api/admin/scenes", headers=env.admin).json()]


def test_forgetting_a_scene_takes_it_off_the_public_api(env: Env) -> None:
    assert env.client.get("/tiles/demo/tileset.json").status_code == 200
    assert env.client.delete("/api/admin/scenes/demo", headers=env.planner).status_code in (401, 403, 404)
    assert env.client.delete("/api/admin/scenes/demo", headers=env.admin).status_code == 204
    assert env.client.get("/tiles/demo/tileset.json").status_code == 404
    assert env.client.get("/api/scenes/demo").status_code == 404
