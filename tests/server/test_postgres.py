"""PostgreSQL as the shared database: two servers on one database, processes migrating at once, concurrent
votes and quota checks, the sensors topic, and clear errors for an unreachable ``TWIN_DATABASE_URL``."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from buildfolder import make_build
from conftest import BOTH, make_settings
from fastapi.testclient import TestClient
from liveserver import free_port
from pg import PostgresServer
from typer.testing import CliRunner

from server import cli
from server.app import create_app
from server.errors import InsufficientStorage, StorageUnavailable
from server.participation.store import ParticipationStore
from server.storage import Database
from server.storage.postgres import translate, translate_ddl
from server.store import SceneStore
from twin import cli as twin_cli
from twin.sensors.records import Station

REPO = Path(__file__).resolve().parents[2]
#: Tests taking ``target`` run on both databases (the locks differ: BEGIN IMMEDIATE, advisory and row locks).
DATABASES = BOTH
BASE = "/api/scenes/demo/participation"
ALICE = {"X-Device-Key": "alice-device-key-0001"}
BOB = {"X-Device-Key": "bob-device-key-000002"}
PIN = {"category": "idea", "text": "A bench, please.", "position": {"lon": 9.9605, "lat": 53.5705, "height": 61.5}}


@pytest.fixture
def target(tmp_path: Path, database: str | None) -> str | Path:
    """A fresh database: a SQLite file, or an empty PostgreSQL database."""
    return database or tmp_path / "twin.db"


def at_once(n: int, work: Callable[[int], Any]) -> list[Any]:
    """``work(0..n-1)`` in ``n`` threads released together; their results (or raised errors) in order."""
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        barrier.wait()
        try:
            return work(i)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_two_servers_share_tokens_and_contributions(tmp_path: Path, postgres_url: str) -> None:
    # Two servers as on two machines: their own data directories, one PostgreSQL.
    a = make_settings(tmp_path / "a", database_url=postgres_url)
    b = make_settings(tmp_path / "b", database_url=postgres_url)
    folder = tmp_path / "built"
    make_build(folder, "v1")
    build = cli.publish_folder(a, "demo", folder)
    SceneStore(b.data_dir).import_folder("demo", build, folder)  # the tiles reach b as an object store would
    SceneStore(b.data_dir).publish("demo", build)
    one, two = TestClient(create_app(a)), TestClient(create_app(b))

    secret = cli.token_create(a, "planner", ["demo"], "alice")
    auth = {"Authorization": f"Bearer {secret}"}
    assert [s["id"] for s in two.get("/api/planner/scenes", headers=auth).json()] == ["demo"]
    made = one.post(f"{BASE}/contributions", json=PIN, headers=ALICE)
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    assert [c["id"] for c in two.get(f"{BASE}/contributions").json()] == [cid]
    assert two.post(f"{BASE}/contributions/{cid}/votes", headers=BOB).json() == {"votes": 1, "counted": True}
    assert one.post(f"{BASE}/contributions/{cid}/votes", headers=BOB).json() == {"votes": 1, "counted": False}
    assert one.get(f"{BASE}/contributions", headers=BOB).json()[0]["voted"] is True
    # revoked on one machine, refused on the other at once
    (token,) = [t for t in cli.token_list(b) if t["name"] == "alice"]
    cli.token_revoke(b, token["id"])
    assert one.get("/api/planner/scenes", headers=auth).status_code == 401
    # and nothing went into a SQLite file
    assert not a.db_path.exists() and not b.db_path.exists()


CHILD = """
import json, os, sys, time
from pathlib import Path
from server.storage import Database
go = Path(sys.argv[2])
(go.parent / f"ready-{os.getpid()}").touch()
while not go.exists():
    time.sleep(0.002)
db = Database(sys.argv[1])
print(db.connection.migrate("race", json.loads(sys.argv[3])))
"""


def test_processes_migrating_at_once_apply_each_migration_once(tmp_path: Path, target: str | Path) -> None:
    migrations = [
        "CREATE TABLE race (n INTEGER NOT NULL);",
        "INSERT INTO race VALUES (1);",
        "INSERT INTO race VALUES (2);\nALTER TABLE race ADD COLUMN note TEXT NOT NULL DEFAULT '';",
    ]
    go = tmp_path / "go"
    args = [sys.executable, "-c", CHILD, str(target), str(go), json.dumps(migrations)]
    children = [subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("ready-*"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)  # until all have imported, then release them together
    go.touch()
    outs = [c.communicate(timeout=120) for c in children]
    assert [c.returncode for c in children] == [0] * 3, [err.decode()[-800:] for _, err in outs]
    assert [out.decode().split()[-1] for out, _ in outs] == ["3"] * 3
    db = Database(target)
    assert [r["n"] for r in db.connection.all("SELECT n FROM race ORDER BY n")] == [1, 2]
    assert db.connection.versions()["race"] == 3


def test_concurrent_votes_and_quota_checks_stay_consistent(target: str | Path) -> None:
    db = Database(target)
    db.scenes.put("demo", "Demo", "")
    store = ParticipationStore(db.connection)
    values = {"category": "idea", "text": "t", "lon": 9.96, "lat": 53.57, "height": 0.0, "channel": "web"}
    cid = store.add("demo", {**values, "device": "d0"}, "visible")["id"]
    # 12 votes at once from 4 devices: each device counted exactly once
    counted = at_once(12, lambda i: store.vote(cid, f"device-{i % 4}"))
    assert sorted(counted) == [False] * 8 + [True] * 4
    assert store.get("demo", cid)["votes"] == 4
    # 8 uploads at once into a quota of 3 uploads: exactly 3 stored, the others refused
    for round_ in range(3):
        scene = f"s{round_}"
        db.scenes.put(scene, scene, "")
        done = at_once(8, lambda i, s=scene: db.uploads.add(f"u{s}-{i}", s, "a.glb", "glb", 10, "x", {}, (3, 10**9)))
        assert sum(r is None for r in done) == 3, done
        assert all(isinstance(r, InsufficientStorage) for r in done if r is not None)
        assert len(db.uploads.of_scene(scene)) == 3
    # the byte quota the same way: 100 bytes allowed, 8 uploads of 30 bytes: 3 fit
    db.scenes.put("bytes", "Bytes", "")
    done = at_once(8, lambda i: db.uploads.add(f"ub-{i}", "bytes", "a.glb", "glb", 30, "x", {}, (100, 100)))
    assert sum(r is None for r in done) == 3 and sum(u["size"] for u in db.uploads.of_scene("bytes")) == 90


def test_sensors_topic(target: str | Path) -> None:
    db = Database(target)
    db.scenes.put("hh", "Hamburg", "")
    point = {"type": "Point", "coordinates": [9.96, 53.57]}
    unit = {"symbol": "1"}
    stations = [
        Station(f"bike-{i}", "bike", f"Station {i}", "bicycle", f"t{i}", f"d{i}", point, unit) for i in range(3)
    ]
    keys = db.sensors.put_stations("hh", stations)
    assert sorted(keys) == ["bike-0", "bike-1", "bike-2"]
    k = keys["bike-0"]
    day = 1_750_000_000 - 1_750_000_000 % 86400
    rows = [(k, day + 900 * i, 900, float(i)) for i in range(8)]  # two hours of quarter hours
    assert db.sensors.add_rows(rows) == 8 and db.sensors.add_rows(rows[:2]) == 0  # stored once
    assert db.sensors.add_rows([(k, day + 900 * 8, 900, 2.5), *rows[:1]]) == 1
    series = db.sensors.series([k], day, day + 86400)
    assert series.values.tolist() == [*map(float, range(8)), 2.5] and series.starts[0] == day
    hourly = db.sensors.hourly([k], day, day + 86400)
    assert hourly.values.tolist() == [6.0, 22.0, 2.5] and hourly.counts.tolist() == [4, 4, 1]
    assert db.sensors.time_range("hh") == (day, day + 900 * 9) and db.sensors.observation_count("hh") == 9
    db.sensors.put_source("hh", "bike", live=True, report={"stored": 9})
    db.sensors.put_source("hh", "bike", state="ok")  # updates in place
    (source,) = db.sensors.sources("hh")
    assert source["live"] is True and source["state"] == "ok" and source["report"] == {"stored": 9}
    assert db.sensors.stations("hh", kind="bicycle", limit=2)[1] == 3
    db.scenes.delete("hh")  # stations cascade, their observations go with them (a trigger)
    assert db.connection.all("SELECT stream FROM sensor_observations") == []
    assert db.connection.all("SELECT key FROM sensor_stations") == []


def test_time_keeps_its_precision(target: str | Path) -> None:
    db = Database(target)
    db.scenes.put("demo", "Demo", "")
    build = db.builds.create("demo")
    now = time.time()
    db.builds.update(build, started=now, progress=0.123456789012)
    row = db.builds.get(build)
    assert row["started"] == now and row["progress"] == 0.123456789012  # REAL is double precision on both
    db.builds.update(build, pid=2**40)  # INTEGER is 64-bit on both
    assert db.builds.get(build)["pid"] == 2**40


def test_sql_written_for_sqlite_only_is_refused() -> None:
    assert translate("SELECT start - start % 3600 FROM t WHERE a=? AND b='?'") == (
        "SELECT start - start %% 3600 FROM t WHERE a=%s AND b='?'"
    )
    with pytest.raises(ValueError, match="SQLite-only"):
        translate("INSERT OR IGNORE INTO votes VALUES (?, ?, ?)")
    ddl = translate_ddl("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, s TEXT REFERENCES x(id), r REAL)")
    assert ddl == [
        "CREATE TABLE t (\n    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n    s TEXT,\n"
        "    r DOUBLE PRECISION\n)",
        "ALTER TABLE t ADD FOREIGN KEY (s) REFERENCES x(id)",
    ]


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgresql://twin:secret@127.0.0.1:{port}/twin"
    with pytest.raises(StorageUnavailable, match=f"'twin' at 127.0.0.1:{port}"):
        cli.token_list(make_settings(tmp_path, database_url=url))
    runner = CliRunner()
    for args in (["token", "list"], ["serve", "--port", str(free_port())]):
        result = runner.invoke(twin_cli.app, args, env={"TWIN_DATABASE_URL": url, "TWIN_DATA_DIR": str(tmp_path)})
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert f"cannot reach the PostgreSQL database 'twin' at 127.0.0.1:{port}" in text
        assert "Connection refused" in text and "Traceback" not in text and "secret" not in text


def test_token_commands_against_postgres(tmp_path: Path, postgres_url: str) -> None:
    runner = CliRunner()
    env = {"TWIN_DATABASE_URL": postgres_url, "TWIN_DATA_DIR": str(tmp_path)}
    created = runner.invoke(twin_cli.app, ["token", "create", "admin", "--name", "ops"], env=env)
    assert created.exit_code == 0, created.output
    (row,) = json.loads(runner.invoke(twin_cli.app, ["token", "list"], env=env).stdout)
    assert row["name"] == "ops" and row["role"] == "admin" and row["revoked"] is None
    assert runner.invoke(twin_cli.app, ["token", "revoke", str(row["id"])], env=env).exit_code == 0
    assert json.loads(runner.invoke(twin_cli.app, ["token", "list"], env=env).stdout)[0]["revoked"] is not None
    assert not (tmp_path / "twin.db").exists()


def test_a_restarted_database_is_used_again(postgres_server: PostgresServer, postgres_url: str) -> None:
    db = Database(postgres_url)
    db.scenes.put("demo", "Demo", "")
    at_once(4, lambda i: db.scenes.get("demo"))  # several connections kept in the process's pool
    postgres_server.restart()
    assert [s["id"] for s in db.scenes.all()] == ["demo"]  # the kept ones are stale: new ones are opened
    assert at_once(4, lambda i: db.scenes.get("demo")["id"]) == ["demo"] * 4
