"""The day roll-up equals the raw sums: real Hamburg counts ingested late, out of order and twice, on both databases."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from server.sensors.query import observations
from server.storage import Database
from server.storage.connection import Connection
from server.storage.scenes import Scenes
from server.storage.sensors import MIGRATIONS
from server.storage.uploads import Uploads
from tests.sensors.conftest import BIKE
from twin.sensors.parse import ParseOptions, parse_page
from twin.sensors.records import IngestReport, Observation, Station


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """A fresh database: a SQLite file, or a new database of the run's PostgreSQL server."""
    if request.param == "sqlite":
        return tmp_path / "twin.db"
    return str(request.getfixturevalue("postgres_url"))


def recorded() -> tuple[list[Station], list[Observation]]:
    """The 100 bicycle stations and their 10,000 quarter-hour counts of 22-24 March 2023."""
    page = parse_page(json.loads(BIKE.read_text(encoding="utf-8")), IngestReport(), ParseOptions("bike"))
    return page.stations, page.observations


def raw_hours(db: Database, keys: list[int]) -> dict[tuple[int, int], tuple[float, int]]:
    """(stream, UTC hour) → (sum, number) straight from the observations, in SQL."""
    rows = db.connection.all(
        "SELECT stream, start - start % 3600 AS hour, SUM(result) AS total, COUNT(*) AS n FROM sensor_observations "
        f"WHERE stream IN ({','.join('?' * len(keys))}) GROUP BY stream, start - start % 3600",
        *keys,
    )
    return {(int(r["stream"]), int(r["hour"])): (float(r["total"]), int(r["n"])) for r in rows}


def rolled_hours(db: Database, keys: list[int], start: int = 0, end: int = 2**31) -> dict[tuple[int, int], Any]:
    got = db.sensors.hourly(keys, start, end)
    return {
        (int(s), int(t)): (float(v), int(n))
        for s, t, v, n in zip(got.streams, got.starts, got.values, got.counts, strict=True)
    }


def rows_of(obs: list[Observation], keys: dict[str, int]) -> list[tuple[int, int, int, float]]:
    return [(keys[o.station], o.start, o.end - o.start, o.result) for o in obs]


def test_the_roll_up_equals_the_raw_sums_whatever_the_order(target: str | Path) -> None:
    db = Database(target)
    db.scenes.put("hh", "Hamburg", "")
    stations, obs = recorded()
    keys = db.sensors.put_stations("hh", stations)
    every = sorted(keys.values())
    rows = rows_of(obs, keys)
    random.Random(18).shuffle(rows)  # out of order: stations and times mixed
    late = rows[7000:]
    assert db.sensors.add_rows(rows[:7000], chunk=2500) == 7000  # batches of new rows only: added up
    assert rolled_hours(db, every) == raw_hours(db, every)
    # a page seen before with late counts among it (partly stored: its days recomputed), then only repeats
    assert db.sensors.add_rows(rows[5000:8500] + late[:200], chunk=1000) == 1500
    assert db.sensors.add_rows(list(reversed(rows[:8500])), chunk=3000) == 0
    assert db.sensors.add_rows(list(reversed(late))) == len(late) - 1500
    raw = raw_hours(db, every)
    assert rolled_hours(db, every) == raw and sum(n for _, n in raw.values()) == 10_000
    # and both equal the counts as parsed, summed per station and hour in Python
    expected: dict[tuple[int, int], list[float]] = {}
    for o in obs:
        cell = expected.setdefault((keys[o.station], o.start - o.start % 3600), [0.0, 0])
        cell[0] += o.result
        cell[1] += 1
    assert raw == {k: (v[0], int(v[1])) for k, v in expected.items()}
    assert db.sensors.observation_count("hh") == 10_000
    assert db.sensors.time_range("hh") == (min(o.start for o in obs), max(o.end for o in obs))
    # a slice within one day reads some hour columns only; a few far-apart stations are read by seeking
    start = int(np.datetime64("2023-03-23T10:00", "s").astype(int))
    some = [every[0], every[50], every[-1]]
    sliced = rolled_hours(db, some, start, start + 3 * 3600)
    assert sliced == {k: v for k, v in raw.items() if k[0] in some and start <= k[1] < start + 3 * 3600}
    assert len(sliced) == 9  # three hours of three stations


def test_hour_and_day_answers_match_the_raw_observations(target: str | Path) -> None:
    db = Database(target)
    db.scenes.put("hh", "Hamburg", "")
    db.sensors.put_source("hh", "bike", live=False, timezone="Europe/Berlin", state="ok")
    stations, obs = recorded()
    keys = db.sensors.put_stations("hh", stations)
    db.sensors.add_observations("hh", obs, keys)
    doc = observations(db, "hh", "day", "2023-03-22", "2023-03-25", None, None)
    raw = db.sensors.series(list(keys.values()), 0, 2**31)
    local = {s["id"]: dict(zip(doc["starts"], s["sums"], strict=True)) for s in doc["stations"]}
    for station, key in list(keys.items())[:10]:
        mine = raw.streams == key
        for day_start, day_end, total in zip(doc["starts"], doc["ends"], local[station].values(), strict=False):
            inside = mine & (raw.starts >= day_start) & (raw.starts < day_end)
            assert (total or 0.0) == pytest.approx(float(raw.values[inside].sum()))
    hour = observations(db, "hh", "hour", "2023-03-23T07:00Z", "2023-03-23T08:00Z", None, None)
    assert len(hour["stations"]) == 100 and hour["starts"] == [int(np.datetime64("2023-03-23T07:00", "s").astype(int))]
    for st in hour["stations"]:
        inside = (raw.streams == keys[st["id"]]) & (raw.starts >= hour["starts"][0]) & (raw.starts < hour["ends"][0])
        assert st["counts"] == [int(inside.sum())] and (st["sums"][0] or 0.0) == float(raw.values[inside].sum())


def test_a_database_from_before_the_roll_up_gets_it_filled(target: str | Path) -> None:
    con = Connection(target)
    Scenes(con, Uploads(con))
    con.migrate("sensors", MIGRATIONS[:1])  # the sensors schema before the roll-up
    con.exec("INSERT INTO scenes(id, title, manifest, created) VALUES ('hh', 'Hamburg', '', 0)")
    stations, obs = recorded()
    for i, st in enumerate(stations[:5], start=1):
        con.exec(
            "INSERT INTO sensor_stations(key, scene, id, source, name, kind, thing, datastream, geometry, unit, "
            "properties, west, south, east, north, updated) VALUES (?, 'hh', ?, 'bike', '', 'bicycle', '', '', "
            "'{}', '{}', '{}', 0, 0, 0, 0, 0)",
            i,
            st.id,
        )
    keys = {st.id: i for i, st in enumerate(stations[:5], start=1)}
    with con.transaction() as s:
        s.executemany(
            "INSERT INTO sensor_observations(stream, start, span, result) VALUES (?, ?, ?, ?)",
            rows_of([o for o in obs if o.station in keys], keys),
        )
    db = Database(target)  # migrates sensors to the roll-up, filled from the rows stored
    assert db.connection.versions()["sensors"] == len(MIGRATIONS)
    assert rolled_hours(db, [1, 2, 3, 4, 5]) == raw_hours(db, [1, 2, 3, 4, 5])
    assert db.sensors.observation_count("hh") == sum(o.station in keys for o in obs) > 0


def test_a_deleted_station_takes_its_roll_up_along(target: str | Path) -> None:
    db = Database(target)
    db.scenes.put("hh", "Hamburg", "")
    stations, obs = recorded()
    keys = db.sensors.put_stations("hh", stations[:3])
    db.sensors.add_observations("hh", obs, keys)
    gone = keys[stations[0].id]
    db.connection.exec("DELETE FROM sensor_stations WHERE key=?", gone)
    left = db.connection.one("SELECT COUNT(*) AS n FROM sensor_daily WHERE stream=?", gone)
    assert left is not None and int(left["n"]) == 0
    assert rolled_hours(db, [keys[stations[1].id]])
