"""Sensor stations, their observations (one row per datastream and phenomenon start) and each source's state.

Observations live in a ``WITHOUT ROWID`` table keyed by ``(stream, start)``: ingesting the same pages twice
stores nothing twice (``ON CONFLICT DO NOTHING``), "one station, one day" is one range of the key, and "all stations,
one hour" is one short range per station. ``stream`` is the station's integer ``key``, so a row is ~20 bytes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from server.storage.connection import Connection
from twin.errors import NotFound
from twin.sensors.records import Observation, Station

TOPIC = "sensors"

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
]


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
        sql = "SELECT id, key, kind FROM sensor_stations WHERE scene=?"
        if ids is not None:
            sql += f" AND id IN ({','.join('?' * len(ids))})"
        with self.db.connect() as s:
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

        One transaction per ``chunk`` rows in a bulk session (SQLite's ``synchronous=NORMAL``, PostgreSQL's
        ``synchronous_commit=off``: a crash loses at most the last chunks, never the database).
        """
        new = 0
        sql = "INSERT INTO sensor_observations(stream, start, span, result) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
        with self.db.bulk() as s:
            batch: list[tuple[int, int, int, float]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= chunk:
                    new += self.db.batch(s, sql, batch)
                    batch = []
            if batch:
                new += self.db.batch(s, sql, batch)
        return new

    def series(self, keys: Sequence[int], start: int, end: int) -> Series:
        """Raw observations of streams ``keys`` starting in ``[start, end)``, ordered by stream and start."""
        return self._arrays(
            "SELECT stream, start, result, 1 FROM sensor_observations "
            f"WHERE stream IN ({','.join('?' * len(keys))}) AND start>=? AND start<? ORDER BY stream, start",
            [*keys, start, end],
        )

    def hourly(self, keys: Sequence[int], start: int, end: int) -> Series:
        """Like :meth:`series`, summed per UTC hour (``starts`` are the hours' first seconds)."""
        return self._arrays(
            "SELECT stream, start - start % 3600 AS hour, SUM(result), COUNT(*) FROM sensor_observations "
            f"WHERE stream IN ({','.join('?' * len(keys))}) AND start>=? AND start<? GROUP BY stream, hour",
            [*keys, start, end],
        )

    def _arrays(self, sql: str, args: list[Any]) -> Series:
        rows: list[Any] = []
        if args[:-2]:
            with self.db.connect() as s:
                rows = s.tuples(sql, *args)  # plain tuples: numpy reads them ten times faster than dicts
        a = np.array(rows, dtype=np.float64).reshape(-1, 4)
        return Series(a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), a[:, 2], a[:, 3].astype(np.int64))

    def time_range(self, scene: str) -> tuple[int, int] | None:
        """First start and last end (UNIX s) of the scene's observations, or None if it has none."""
        row = self.db.one(
            "SELECT MIN(o.start) AS a, MAX(o.start + o.span) AS b FROM sensor_stations s "
            "JOIN sensor_observations o ON o.stream = s.key WHERE s.scene=?",
            scene,
        )
        if row is None or row["a"] is None:
            return None
        return int(row["a"]), int(row["b"])

    def observation_count(self, scene: str) -> int:
        """How many observations ``scene`` holds."""
        row = self.db.one(
            "SELECT COUNT(*) AS n FROM sensor_stations s JOIN sensor_observations o ON o.stream = s.key "
            "WHERE s.scene=?",
            scene,
        )
        return int(row["n"]) if row else 0

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
