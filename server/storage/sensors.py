"""Sensor stations, their observations (one row per datastream and phenomenon start) and each source's state.

Observations live in a ``WITHOUT ROWID`` table keyed by ``(stream, start)``: ingesting the same pages twice
stores nothing twice (``ON CONFLICT DO NOTHING``), "one station, one day" is one range of the key, and "all stations,
one hour" is one short range per station. ``stream`` is the station's integer ``key``, so a row is ~20 bytes.

Hour and day buckets read ``sensor_daily``, a roll-up kept in the same transaction as every insert: one row
per (UTC day, stream) with the sum and number of observations in each of its 24 UTC hours, keyed day first,
so "all stations, one hour" is one short range of the key (800 rows) instead of 800 ranges, and a year of
one station 365 rows (through the ``(stream, day)`` index). A batch whose rows were all new is added to it;
one that was partly stored already has the days it touched recomputed from the observations, so late,
out-of-order and repeated pages leave it equal to the raw sums.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from server.storage.connection import Connection, Session
from twin.errors import NotFound
from twin.sensors.aggregate import DayRollup, day_rollup, rollup_hours
from twin.sensors.records import Observation, Station

TOPIC = "sensors"

#: The roll-up's 24 hourly sums (UTC hours 0-23), then its 24 hourly numbers of observations.
DAILY_COLUMNS = [*(f"h{i}" for i in range(24)), *(f"n{i}" for i in range(24))]
_SUMS_BY_HOUR = ", ".join(f"SUM(CASE WHEN start % 86400 / 3600 = {i} THEN result ELSE 0 END)" for i in range(24))
_NUMBERS_BY_HOUR = ", ".join(f"SUM(CASE WHEN start % 86400 / 3600 = {i} THEN 1 ELSE 0 END)" for i in range(24))

#: One entry per schema version of this topic; never edit a released entry, append a new one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE sensor_stations (
        key INTEGER PRIMARY KEY AUTOINCREMENT,
        scene TEXT NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        source TEXT NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        thing TEXT NOT NULL,
        datastream TEXT NOT NULL,
        geometry TEXT NOT NULL,
        unit TEXT NOT NULL,
        properties TEXT NOT NULL,
        west REAL NOT NULL,
        south REAL NOT NULL,
        east REAL NOT NULL,
        north REAL NOT NULL,
        updated REAL NOT NULL,
        UNIQUE (scene, id)
    );
    CREATE TABLE sensor_observations (
        stream INTEGER NOT NULL,
        start INTEGER NOT NULL,
        span INTEGER NOT NULL,
        result NUMERIC NOT NULL,
        PRIMARY KEY (stream, start)
    ) WITHOUT ROWID;
    CREATE TRIGGER sensor_stations_gone AFTER DELETE ON sensor_stations BEGIN
        DELETE FROM sensor_observations WHERE stream = OLD.key;
    END;
    CREATE TABLE sensor_sources (
        scene TEXT NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        live INTEGER NOT NULL,
        timezone TEXT NOT NULL,
        state TEXT NOT NULL,
        error TEXT NOT NULL DEFAULT '',
        failures INTEGER NOT NULL DEFAULT 0,
        last_attempt REAL,
        last_success REAL,
        next_due REAL,
        report TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (scene, source)
    );
    """,
    # 2: the day roll-up, filled from what is stored already
    f"""
    CREATE TABLE sensor_daily (
        day INTEGER NOT NULL,
        stream INTEGER NOT NULL,
        {", ".join(f"h{i} REAL NOT NULL DEFAULT 0" for i in range(24))},
        {", ".join(f"n{i} INTEGER NOT NULL DEFAULT 0" for i in range(24))},
        PRIMARY KEY (day, stream)
    ) WITHOUT ROWID;
    CREATE INDEX sensor_daily_stream ON sensor_daily(stream, day);
    CREATE TRIGGER sensor_stations_gone_daily AFTER DELETE ON sensor_stations BEGIN
        DELETE FROM sensor_daily WHERE stream = OLD.key;
    END;
    INSERT INTO sensor_daily(day, stream, {", ".join(DAILY_COLUMNS)})
    SELECT start - start % 86400, stream, {_SUMS_BY_HOUR}, {_NUMBERS_BY_HOUR}
    FROM sensor_observations GROUP BY start - start % 86400, stream;
    """,
]

#: Upserts of roll-up rows: ``add`` to what a row holds (a batch of new observations), or ``set`` it.
_DAILY_UPSERT = {
    how: f"INSERT INTO sensor_daily(day, stream, {', '.join(DAILY_COLUMNS)}) VALUES ({', '.join('?' * 50)}) "
    "ON CONFLICT(day, stream) DO UPDATE SET "
    + ", ".join(f"{c} = {'sensor_daily.' + c + ' + ' if how == 'add' else ''}excluded.{c}" for c in DAILY_COLUMNS)
    for how in ("add", "set")
}
#: A batch of ``(stream, start, span, result)`` rows as numpy reads it.
_ROW = np.dtype([("stream", np.int64), ("start", np.int64), ("span", np.int64), ("result", np.float64)])
#: Up to this many streams a roll-up read seeks each (the ``(stream, day)`` index); more read the days' whole
#: range of stream keys at once (a scene's stations have neighbouring keys).
_SEEK_STREAMS = 64


class Series(NamedTuple):
    """Observations (or hourly sums) as arrays: ``streams``, ``starts`` (UNIX s), ``values``, ``counts``."""

    streams: np.ndarray
    starts: np.ndarray
    values: np.ndarray
    counts: np.ndarray


_STATION_COLUMNS = "key, id, source, name, kind, thing, datastream, geometry, unit, properties"


def _bbox(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    c = geometry["coordinates"]
    pts = [c] if geometry["type"] == "Point" else c
    xs, ys = [float(p[0]) for p in pts], [float(p[1]) for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def _station_row(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("geometry", "unit", "properties"):
        row[key] = json.loads(row[key])
    return row


def _series(a: np.ndarray) -> Series:
    """``(n, 4)`` stream, start, value, count rows as a :class:`Series`."""
    return Series(a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), a[:, 2], a[:, 3].astype(np.int64))


def _daily_rows(rollup: DayRollup) -> list[tuple[Any, ...]]:
    """Roll-up rows as the upsert's parameters: day, stream, 24 sums, 24 numbers."""
    return [
        (day, stream, *sums, *numbers)
        for day, stream, sums, numbers in zip(
            rollup.days.tolist(), rollup.streams.tolist(), rollup.sums.tolist(), rollup.numbers.tolist(), strict=True
        )
    ]


class Sensors:
    """Stations, observations and source states of every scene."""

    def __init__(self, db: Connection) -> None:
        self.db = db
        db.migrate(TOPIC, MIGRATIONS)

    # stations ----------------------------------------------------------------------------------------
    def put_stations(self, scene: str, stations: Iterable[Station]) -> dict[str, int]:
        """Insert or update stations of ``scene``; returns every station id of the scene → its key."""
        now = time.time()
        rows = [
            (
                scene,
                s.id,
                s.source,
                s.name,
                s.kind,
                s.thing,
                s.datastream,
                json.dumps(s.geometry),
                json.dumps(s.unit),
                json.dumps(s.properties),
                *_bbox(s.geometry),
                now,
            )
            for s in stations
        ]
        with self.db.transaction(immediate=True) as s:
            s.executemany(
                "INSERT INTO sensor_stations(scene, id, source, name, kind, thing, datastream, geometry, unit, "
                "properties, west, south, east, north, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(scene, id) DO UPDATE SET name=excluded.name, kind=excluded.kind, "
                "geometry=excluded.geometry, unit=excluded.unit, properties=excluded.properties, "
                "west=excluded.west, south=excluded.south, east=excluded.east, north=excluded.north, "
                "updated=excluded.updated",
                rows,
            )
        return self.keys(scene)

    def kinds(self, scene: str, ids: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        """Station id → ``{"id", "key", "kind"}`` for the stations ``ids`` (all by default) of ``scene``, by id."""
        with self.db.connect() as s:
            return self._kinds(s, scene, ids)

    def scene_stations(self, scene: str, ids: Sequence[str] | None = None) -> tuple[str | None, dict[str, Any]]:
        """What a query of ``scene`` needs first, in one connection: its sources' time zone (None without
        sources) and :meth:`kinds`; :class:`NotFound` if there is no such scene."""
        with self.db.connect() as s:
            if not s.tuples("SELECT 1 FROM scenes WHERE id=?", scene):
                raise NotFound(f"scene {scene!r} not found")
            zone = s.tuples("SELECT timezone FROM sensor_sources WHERE scene=? ORDER BY source LIMIT 1", scene)
            return (zone[0][0] if zone else None), self._kinds(s, scene, ids)

    @staticmethod
    def _kinds(s: Session, scene: str, ids: Sequence[str] | None) -> dict[str, dict[str, Any]]:
        sql = "SELECT id, key, kind FROM sensor_stations WHERE scene=?"
        if ids is not None:
            sql += f" AND id IN ({','.join('?' * len(ids))})"
        rows = s.tuples(sql + " ORDER BY id", scene, *(ids or ()))
        return {r[0]: {"id": r[0], "key": r[1], "kind": r[2]} for r in rows}

    def keys(self, scene: str) -> dict[str, int]:
        """Station id → integer key, for every station of ``scene``."""
        return {r["id"]: r["key"] for r in self.db.all("SELECT id, key FROM sensor_stations WHERE scene=?", scene)}

    def stations(
        self,
        scene: str,
        bbox: tuple[float, float, float, float] | None = None,
        kind: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """Stations of ``scene`` (touching ``bbox``, of ``kind``), by id; returns ``(page, number matched)``."""
        where: list[str] = ["scene=?"]
        args: list[Any] = [scene]
        if bbox is not None:
            where.append("east>=? AND west<=? AND north>=? AND south<=?")
            args += [bbox[0], bbox[2], bbox[1], bbox[3]]
        if kind is not None:
            where.append("kind=?")
            args.append(kind)
        cond = " AND ".join(where)
        matched = self.db.one(f"SELECT COUNT(*) AS n FROM sensor_stations WHERE {cond}", *args)
        rows = self.db.all(
            f"SELECT {_STATION_COLUMNS} FROM sensor_stations WHERE {cond} ORDER BY id LIMIT ? OFFSET ?",
            *args,
            limit,
            offset,
        )
        return [_station_row(r) for r in rows], int(matched["n"] if matched else 0)

    def station(self, scene: str, station: str) -> dict[str, Any]:
        """One station; :class:`NotFound` if ``scene`` has none of that id."""
        row = self.db.one(f"SELECT {_STATION_COLUMNS} FROM sensor_stations WHERE scene=? AND id=?", scene, station)
        if row is None:
            raise NotFound(f"station {station!r} not found in scene {scene!r}")
        return _station_row(row)

    # observations ------------------------------------------------------------------------------------
    def add_observations(self, scene: str, observations: Iterable[Observation], keys: dict[str, int]) -> int:
        """Store observations of known stations (``keys`` from :meth:`put_stations`); returns how many were new."""
        rows = ((keys[o.station], o.start, o.end - o.start, o.result) for o in observations if o.station in keys)
        return self.add_rows(rows)

    def add_rows(self, rows: Iterable[tuple[int, int, int, float]], chunk: int = 200_000) -> int:
        """Bulk insert ``(stream key, start, span, result)`` rows, ignoring ones already stored; returns new rows.

        One transaction per ``chunk`` rows, holding the rows and the roll-up of the days they touch, in a bulk
        session (SQLite's ``synchronous=NORMAL``, PostgreSQL's ``synchronous_commit=off``: a crash loses at most
        the last chunks, never the database).
        """
        new = 0
        sql = "INSERT INTO sensor_observations(stream, start, span, result) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
        with self.db.bulk() as s:
            if isinstance(rows, Sequence):  # slices of a list, not a Python loop over every row
                for i in range(0, len(rows), chunk):
                    part = rows[i : i + chunk]
                    new += self.db.batch(s, sql, part, then=partial(self._roll_up, part))
                return new
            batch: list[tuple[int, int, int, float]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= chunk:
                    new += self.db.batch(s, sql, batch, then=partial(self._roll_up, batch))
                    batch = []
            if batch:
                new += self.db.batch(s, sql, batch, then=partial(self._roll_up, batch))
        return new

    @staticmethod
    def _roll_up(batch: Sequence[tuple[int, int, int, float]], s: Session, stored: int) -> None:
        """Bring the day roll-up up to date with a batch just inserted (in its transaction)."""
        if stored == 0:
            return  # all stored before: the roll-up holds them already
        rows = np.fromiter(batch, dtype=_ROW, count=len(batch))
        if stored == len(batch):  # all new: add them to what the days hold
            s.executemany(_DAILY_UPSERT["add"], _daily_rows(day_rollup(rows["stream"], rows["start"], rows["result"])))
            return
        # Some were stored already (a repeated or overlapping page): recompute the days touched from the rows.
        touched = day_rollup(rows["stream"], rows["start"], rows["result"])
        hours: list[tuple[Any, ...]] = []
        for stream in np.unique(touched.streams).tolist():
            days = touched.days[touched.streams == stream]
            hours += s.tuples(
                "SELECT stream, start - start % 3600, SUM(result), COUNT(*) FROM sensor_observations "
                "WHERE stream = ? AND start >= ? AND start < ? GROUP BY stream, start - start % 3600",
                stream,
                int(days.min()),
                int(days.max()) + 86_400,
            )
        a = np.array(hours, dtype=np.float64).reshape(-1, 4)
        s.executemany(_DAILY_UPSERT["set"], _daily_rows(day_rollup(a[:, 0], a[:, 1], a[:, 2], a[:, 3])))

    def series(self, keys: Sequence[int], start: int, end: int) -> Series:
        """Raw observations of streams ``keys`` starting in ``[start, end)``, ordered by stream and start."""
        return self._arrays(
            "SELECT stream, start, result, 1 FROM sensor_observations "
            f"WHERE stream IN ({','.join('?' * len(keys))}) AND start>=? AND start<? ORDER BY stream, start",
            [*keys, start, end],
        )

    def hourly(self, keys: Sequence[int], start: int, end: int) -> Series:
        """Sums and numbers of observations of streams ``keys`` per UTC hour starting in ``[start, end)``.

        Read from the day roll-up (only the hours' columns a range within one day needs); ``starts`` are the
        hours' first seconds, ``counts`` the observations each sum holds; ordered by stream and hour.
        """
        if not keys or end <= start:
            return _series(np.zeros((0, 4)))
        first, last = start - start % 86_400, (end - 1) - (end - 1) % 86_400
        hours = range(24) if first < last else range((start - first) // 3600, (end - 1 - first) // 3600 + 1)
        columns = ", ".join([*(f"h{i}" for i in hours), *(f"n{i}" for i in hours)])
        lo, hi = min(keys), max(keys)
        if len(keys) > _SEEK_STREAMS:  # one range of the day-major key
            where, args = "day >= ? AND day <= ? AND +stream >= ? AND +stream <= ?", [first, last, lo, hi]
        else:
            where, args = f"stream IN ({','.join('?' * len(keys))}) AND day >= ? AND day <= ?", [*keys, first, last]
        with self.db.connect() as s:
            rows = s.tuples(f"SELECT day, stream, {columns} FROM sensor_daily WHERE {where}", *args)
        a = np.array(rows, dtype=np.float64).reshape(-1, 2 + 2 * len(hours))
        a = a[np.isin(a[:, 1], np.asarray(keys, dtype=np.float64))]
        n = len(hours)
        rollup = DayRollup(
            a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), a[:, 2 : 2 + n], a[:, 2 + n :].astype(np.int64)
        )
        streams, starts, sums, numbers = rollup_hours(rollup, start, end, hours)
        order = np.lexsort((starts, streams))
        return Series(streams[order], starts[order], sums[order], numbers[order].astype(np.int64))

    def _arrays(self, sql: str, args: list[Any]) -> Series:
        rows: list[Any] = []
        if args[:-2]:
            with self.db.connect() as s:
                rows = s.tuples(sql, *args)  # plain tuples: numpy reads them ten times faster than dicts
        return _series(np.array(rows, dtype=np.float64).reshape(-1, 4))

    def time_range(self, scene: str) -> tuple[int, int] | None:
        """First start and last end (UNIX s) of the scene's observations, or None if it has none.

        Two seeks of the key per station (its first observation, and the end of its last one), not a scan.
        """
        row = self.db.one(
            "SELECT MIN((SELECT o.start FROM sensor_observations o WHERE o.stream = s.key ORDER BY o.start "
            "LIMIT 1)) AS a, MAX((SELECT o.start + o.span FROM sensor_observations o WHERE o.stream = s.key "
            "ORDER BY o.start DESC LIMIT 1)) AS b FROM sensor_stations s WHERE s.scene=?",
            scene,
        )
        if row is None or row["a"] is None:
            return None
        return int(row["a"]), int(row["b"])

    def observation_count(self, scene: str) -> int:
        """How many observations ``scene`` holds (summed from the day roll-up: a row per day, not per count)."""
        row = self.db.one(
            f"SELECT SUM({' + '.join(DAILY_COLUMNS[24:])}) AS n FROM sensor_stations s "
            "JOIN sensor_daily d ON d.stream = s.key WHERE s.scene=?",
            scene,
        )
        return int(row["n"]) if row and row["n"] is not None else 0

    # sources -----------------------------------------------------------------------------------------
    def put_source(self, scene: str, source: str, **fields: Any) -> None:
        """Create or update a source's state (live, timezone, state, error, failures, last_*, next_due, report)."""
        current = self.source(scene, source) or {
            "live": 0,
            "timezone": "UTC",
            "state": "new",
            "error": "",
            "failures": 0,
            "last_attempt": None,
            "last_success": None,
            "next_due": None,
            "report": {},
        }
        row = {**current, **fields}
        self.db.exec(
            "INSERT INTO sensor_sources(scene, source, live, timezone, state, error, failures, last_attempt, "
            "last_success, next_due, report) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(scene, source) "
            "DO UPDATE SET live=excluded.live, timezone=excluded.timezone, state=excluded.state, "
            "error=excluded.error, failures=excluded.failures, last_attempt=excluded.last_attempt, "
            "last_success=excluded.last_success, next_due=excluded.next_due, report=excluded.report",
            scene,
            source,
            int(bool(row["live"])),
            row["timezone"],
            row["state"],
            row["error"],
            int(row["failures"]),
            row["last_attempt"],
            row["last_success"],
            row["next_due"],
            json.dumps(row["report"]),
        )

    def source(self, scene: str, source: str) -> dict[str, Any] | None:
        """One source's state, or None."""
        row = self.db.one("SELECT * FROM sensor_sources WHERE scene=? AND source=?", scene, source)
        return self._source_row(row) if row else None

    def sources(self, scene: str) -> list[dict[str, Any]]:
        """Every source state of ``scene``, by name."""
        return [
            self._source_row(r)
            for r in self.db.all("SELECT * FROM sensor_sources WHERE scene=? ORDER BY source", scene)
        ]

    @staticmethod
    def _source_row(row: dict[str, Any]) -> dict[str, Any]:
        row["report"] = json.loads(row["report"])
        row["live"] = bool(row["live"])
        return row
