"""The topic stores and their migrations, including a data directory made by the single-list schema."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import psycopg
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import BOTH, tables

from server.storage import Database, sensors
from server.storage.connection import Connection
from twin.errors import Conflict, NotFound

#: The sensors topic's version (its migrations come and go with the sensors work, not this test's).
SENSORS = len(sensors.MIGRATIONS)
#: Tests taking ``target`` run on SQLite and PostgreSQL; the legacy upgrade is SQLite's alone.
DATABASES = BOTH

#: The whole schema as the server before per-topic storage wrote it (server/db.py, ``PRAGMA user_version=1``).
OLD_SCHEMA = """
BEGIN;
CREATE TABLE scenes (id TEXT PRIMARY KEY, title TEXT NOT NULL, manifest TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE variants (
    scene TEXT NOT NULL REFERENCES scenes(id) ON DELETE CASCADE, id TEXT NOT NULL, title TEXT NOT NULL,
    removed TEXT NOT NULL DEFAULT '[]', updated REAL NOT NULL, PRIMARY KEY (scene, id));
CREATE TABLE uploads (
    id TEXT PRIMARY KEY, scene TEXT NOT NULL REFERENCES scenes(id) ON DELETE CASCADE, filename TEXT NOT NULL,
    format TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, info TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL);
CREATE TABLE designs (
    scene TEXT NOT NULL, variant TEXT NOT NULL, id TEXT NOT NULL, upload TEXT NOT NULL REFERENCES uploads(id),
    title TEXT NOT NULL, anchor TEXT NOT NULL, PRIMARY KEY (scene, variant, id),
    FOREIGN KEY (scene, variant) REFERENCES variants(scene, id) ON DELETE CASCADE);
CREATE TABLE builds (
    id TEXT PRIMARY KEY, scene TEXT NOT NULL REFERENCES scenes(id) ON DELETE CASCADE, state TEXT NOT NULL,
    stage TEXT NOT NULL DEFAULT '', progress REAL NOT NULL DEFAULT 0, log TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '', cancel INTEGER NOT NULL DEFAULT 0, pid INTEGER, created REAL NOT NULL,
    started REAL, finished REAL);
CREATE INDEX builds_scene ON builds(scene, created);
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
    scenes TEXT NOT NULL DEFAULT '[]', created REAL NOT NULL, revoked REAL);
PRAGMA user_version=1;
COMMIT;
INSERT INTO scenes VALUES ('demo', 'Demo', '/x/scene.toml', 1.0);
INSERT INTO variants VALUES ('demo', 'plan', 'Plan', '["b1"]', 2.0);
INSERT INTO uploads VALUES ('u1', 'demo', 'house.glb', 'glb', 10, 'ab', '{"triangles": 12}', 3.0);
INSERT INTO designs VALUES ('demo', 'plan', 'house', 'u1', 'House', '{"lon": 10.0, "lat": 53.5}');
INSERT INTO builds(id, scene, state, log, created) VALUES ('b1', 'demo', 'succeeded', 'ok\n', 4.0);
INSERT INTO tokens(name, hash, role, scenes, created) VALUES ('alice', 'd1', 'planner', '["demo"]', 5.0);
"""


def test_old_single_list_database_upgrades_without_losing_rows(tmp_path: Path) -> None:
    path = tmp_path / "twin.db"
    with sqlite3.connect(path) as con:
        con.executescript(OLD_SCHEMA)
    db = Database(path)
    # the old file holds version 1 of every topic; builds has had a migration since, applied on top
    assert db.connection.versions() == {"scenes": 1, "uploads": 1, "builds": 2, "tokens": 1, "sensors": SENSORS}
    assert [s["id"] for s in db.scenes.all()] == ["demo"]
    plan = db.scenes.variant("demo", "plan")
    assert plan["removed"] == ["b1"] and plan["designs"][0]["anchor"] == {"lon": 10.0, "lat": 53.5}
    assert db.uploads.get("u1")["info"] == {"triangles": 12}
    assert db.builds.get("b1")["log"] == "ok\n" and db.builds.get("b1")["reading"] == ""
    assert db.tokens.by_digest("d1")["scenes"] == ["demo"]  # type: ignore[index]
    # and it keeps working: new rows, and opening it again changes nothing
    db.builds.create("demo")
    again = Database(path)
    assert len(again.builds.of_scene("demo")) == 2 and again.connection.versions()["builds"] == 2


@pytest.fixture
def target(tmp_path: Path, database: str | None) -> str | Path:
    """A fresh database: a SQLite file, or an empty PostgreSQL database."""
    return database or tmp_path / "twin.db"


def test_a_new_topic_migrates_on_its_own(target: str | Path) -> None:
    db = Database(target)
    db.scenes.put("demo", "Demo", "")
    later = ["CREATE TABLE visits (id TEXT PRIMARY KEY, scene TEXT NOT NULL REFERENCES scenes(id) ON DELETE CASCADE);"]
    assert db.connection.migrate("visits", later) == 1
    later.append("ALTER TABLE visits ADD COLUMN title TEXT NOT NULL DEFAULT '';")
    assert db.connection.migrate("visits", later) == 2
    assert db.connection.migrate("visits", later) == 2  # applied once
    db.connection.exec("INSERT INTO visits(id, scene, title) VALUES ('v', 'demo', 'Tour')")
    assert db.connection.versions() == {
        "scenes": 1,
        "uploads": 1,
        "builds": 2,
        "tokens": 1,
        "sensors": SENSORS,
        "visits": 2,
    }
    db.scenes.delete("demo")  # the scene's cascade reaches the new topic's rows
    assert db.connection.all("SELECT * FROM visits") == []


def test_a_failed_migration_leaves_nothing_behind(target: str | Path) -> None:
    con = Connection(target)
    with pytest.raises((sqlite3.OperationalError, psycopg.errors.DuplicateTable)):
        con.migrate("broken", ["CREATE TABLE a (x INTEGER);\nCREATE TABLE a (x INTEGER);"])
    assert "broken" not in con.versions()
    assert "a" not in tables(con) and "schema" in tables(con)


def test_forgetting_a_scene_removes_what_hangs_off_it(target: str | Path) -> None:
    db = Database(target)
    db.scenes.put("demo", "Demo", "")
    db.scenes.put_variant("demo", "plan", "Plan", [])
    db.uploads.add("u1", "demo", "a.glb", "glb", 1, "x", {})
    db.scenes.put_design("demo", "plan", "house", "u1", "House", {})
    build = db.builds.create("demo")
    with pytest.raises(Conflict, match="placed in a variant"):
        db.uploads.delete("u1")
    db.scenes.delete("demo")
    with pytest.raises(NotFound):
        db.builds.get(build)
    with pytest.raises(NotFound):
        db.uploads.get("u1")
    assert db.connection.all("SELECT * FROM designs") == db.connection.all("SELECT * FROM variants") == []
    with pytest.raises(NotFound):
        db.scenes.delete("demo")
    with pytest.raises(NotFound):
        db.builds.create("demo")
