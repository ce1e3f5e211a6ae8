"""Ingest into the server's database: idempotent, per-station report, unreachable upstreams keep their data."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.cli import sensors_ingest
from server.sensors.ingest import Refresher, ingest_source, scene_status
from server.settings import Settings
from server.storage import Database
from tests.sensors.conftest import BIKE, CARS, EIMSBUETTEL
from twin.sensors.spec import SensorSourceSpec

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "scenes" / "hamburg-eimsbuettel"


@pytest.fixture()
def db(tmp_path: Path) -> Database:
    d = Database(tmp_path / "twin.db")
    d.scenes.put("hh", "Hamburg", "")
    return d


def test_ingesting_the_same_pages_twice_stores_nothing_twice(db: Database) -> None:
    spec = SensorSourceSpec(name="bike", pages=(BIKE,), margin=700.0, timezone="Europe/Berlin")
    first = ingest_source(db, "hh", spec, EIMSBUETTEL)
    assert first["state"] == "ok" and first["report"]["stored"] == 1400 and first["report"]["duplicates"] == 0
    second = ingest_source(db, "hh", spec, EIMSBUETTEL)
    assert second["report"]["stored"] == 0 and second["report"]["duplicates"] == 1400
    assert db.sensors.observation_count("hh") == 1400
    assert len(db.sensors.keys("hh")) == 14
    # a wider extent adds the other stations, and only their observations
    wider = ingest_source(db, "hh", spec, None)
    assert wider["report"]["stored"] == 8600 and db.sensors.observation_count("hh") == 10_000
    assert wider["report"]["note"].startswith("no scene extent")


def test_the_report_names_stations_and_what_happened(db: Database) -> None:
    state = ingest_source(db, "hh", SensorSourceSpec(name="cars", pages=(CARS,)), None)
    problems = state["report"]["problems"]
    when = "2022-05-24T07:30:00.000Z/2022-05-24T07:44:59.000Z"
    assert problems["cars-16284"] == [{"action": "skipped", "reason": "negative count", "detail": f"-28 at {when}"}]
    assert problems["cars-13194"][0]["reason"] == "missing position"
    assert db.sensors.observation_count("hh") == 95
    status = scene_status(db, "hh")
    assert status["state"] == "ok" and status["stations"] == 100


def test_an_unreachable_live_source_keeps_what_is_stored_and_backs_off(db: Database) -> None:
    ingest_source(db, "hh", SensorSourceSpec(name="bike", pages=(BIKE,)), EIMSBUETTEL)
    live = SensorSourceSpec(name="bike", url="http://127.0.0.1:9/v1.1/Things", allowed_hosts=("127.0.0.1",), refresh=60)
    calls = dict(address_ok=lambda ip: True, retries=1, backoff=0.0, sleep=lambda s: None, now=lambda: 1000.0)
    state = ingest_source(db, "hh", live, EIMSBUETTEL, **calls)  # type: ignore[arg-type]
    assert state["state"] == "unreachable" and state["failures"] == 1 and state["next_due"] == 1000.0 + 120
    assert "unreachable" in state["error"] or "refused" in state["error"].lower()
    state = ingest_source(db, "hh", live, EIMSBUETTEL, **calls)  # type: ignore[arg-type]
    assert state["failures"] == 2 and state["next_due"] == 1000.0 + 240
    assert db.sensors.observation_count("hh") == 1400
    status = scene_status(db, "hh")
    assert status["state"] == "unreachable" and status["observations"] == 1400


def test_the_refresher_runs_due_live_sources_only(db: Database) -> None:
    live = SensorSourceSpec(name="live", url="http://127.0.0.1:9/x", allowed_hosts=("127.0.0.1",), refresh=60)
    recorded = SensorSourceSpec(name="rec", pages=(CARS,))
    refresher = Refresher(db, lambda: [("hh", (live, recorded), None)], address_ok=lambda ip: False)
    assert refresher.run_once(now=0.0) == 1
    state = db.sensors.source("hh", "live")
    assert state is not None and state["state"] == "unreachable" and "not a public address" in state["error"]
    assert db.sensors.source("hh", "rec") is None
    assert refresher.run_once(now=state["last_attempt"] + 1) == 0  # backing off
    assert refresher.run_once(now=state["next_due"] + 1) == 1


def test_cli_ingest_of_the_demo_scene(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, scenes_dir=REPO / "scenes")
    states = sensors_ingest(settings, DEMO)
    assert [s["source"] for s in states] == ["bike"] and states[0]["state"] == "ok"
    db = Database(settings.db_path)
    assert len(db.sensors.keys("hamburg-eimsbuettel")) == 14
    assert db.sensors.observation_count("hamburg-eimsbuettel") == 1400
    assert sensors_ingest(settings, DEMO)[0]["report"]["stored"] == 0


def test_deleting_a_scene_removes_its_stations_and_observations(db: Database) -> None:
    ingest_source(db, "hh", SensorSourceSpec(name="bike", pages=(BIKE,)), EIMSBUETTEL)
    db.scenes.delete("hh")
    assert db.sensors.keys("hh") == {}
    assert db.connection.one("SELECT COUNT(*) AS n FROM sensor_observations") == {"n": 0}


def test_twin_sensors_ingest_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from twin.cli import app

    monkeypatch.setenv("TWIN_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["sensors", "ingest", str(DEMO)])
    assert result.exit_code == 0, result.output
    assert '"state": "ok"' in result.output and '"stored": 1400' in result.output
    bad = CliRunner().invoke(app, ["sensors", "ingest", str(tmp_path / "nowhere")])
    assert bad.exit_code == 2


@pytest.mark.parametrize(("bounds", "stations"), [(EIMSBUETTEL, 14), ((0.0, 0.0, 0.01, 0.01), 0)])
def test_publishing_a_scene_ingests_its_recorded_pages_within_its_bounds(
    tmp_path: Path, bounds: tuple[float, ...], stations: int
) -> None:
    import json
    import sys

    sys.path.insert(0, str(REPO / "tests" / "server"))
    from buildfolder import make_build

    from server.cli import publish_folder

    folder = tmp_path / "build"
    make_build(folder)
    info = json.loads((folder / "scene.json").read_text())
    (folder / "scene.json").write_text(json.dumps({**info, "bounds": list(bounds)}))
    settings = Settings(data_dir=tmp_path / "data", scenes_dir=REPO / "scenes")
    publish_folder(settings, "hamburg-eimsbuettel", folder)
    db = Database(settings.db_path)
    assert len(db.sensors.keys("hamburg-eimsbuettel")) == stations
    state = db.sensors.source("hamburg-eimsbuettel", "bike")
    assert state is not None and state["state"] == "ok" and "note" not in state["report"]
