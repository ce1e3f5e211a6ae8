"""Sensors storage: a year of 15-minute counts per station, ingest rate, database size and query latency.

    .venv/bin/python -m bench.sensors [--stations 800] [--days 365] [--queries 200] [--rounds 3]
        [--out bench/results/sensors.json]

Counts are generated from the real day profiles of Hamburg's bicycle counting stations (the recorded page in
tests/fixtures/sensors/bike_counts.json: mean count per quarter hour of the day, each station scaled by its
own mean), with a weekend factor and Poisson noise. Measured on SQLite through the server's own storage
(``Sensors.add_rows``) and queries (``server.sensors.query.observations``, what the HTTP handler calls; and the
storage query alone): ingest rate, file size, and p50/p99 of "one station, one day" (96 quarter hours) and
"all stations, one hour bucket", in several rounds. The machine is shared, so each round also times two
references next to every query (a one-row read of the same database, and a fixed piece of pure-Python work)
and samples the load (``/proc/loadavg``) while it runs; the ratios of the p99s are what compares across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import threading
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from server.sensors.query import observations
from server.storage import Database
from twin.sensors.parse import ParseOptions, parse_page
from twin.sensors.records import IngestReport, Station

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "sensors" / "bike_counts.json"
YEAR_START = int(datetime(2023, 1, 2, tzinfo=UTC).timestamp())  # a Monday
SCENE = "bench"


def day_profiles() -> tuple[np.ndarray, np.ndarray]:
    """``(profile, scales)``: the mean count per quarter hour (96,) over all stations, normalised to mean 1,
    and each real station's mean count (to scale the synthetic ones like the real network)."""
    page = parse_page(json.loads(FIXTURE.read_text(encoding="utf-8")), IngestReport(), ParseOptions("bike"))
    slot = np.array([(o.start % 86_400) // 900 for o in page.observations])
    value = np.array([o.result for o in page.observations])
    sums = np.bincount(slot, weights=value, minlength=96)
    counts = np.maximum(np.bincount(slot, minlength=96), 1)
    profile = sums / counts
    profile = profile / profile.mean()
    per_station: dict[str, list[float]] = {}
    for o in page.observations:
        per_station.setdefault(o.station, []).append(o.result)
    scales = np.array([np.mean(v) for v in per_station.values()])
    return profile, np.maximum(scales, 0.5)


def generate(key: int, days: int, profile: np.ndarray, scale: float, rng: np.random.Generator) -> list[tuple]:
    """One station's year: ``(stream, start, span, count)`` rows every 15 minutes."""
    n = days * 96
    starts = YEAR_START + 900 * np.arange(n, dtype=np.int64)
    weekday = (np.arange(n) // 96) % 7
    factor = np.where(weekday >= 5, 0.7, 1.0) * (0.8 + 0.4 * rng.random())
    counts = rng.poisson(profile[np.arange(n) % 96] * scale * factor)
    return list(zip([key] * n, starts.tolist(), [899] * n, counts.tolist(), strict=True))


def _p(samples: list[float], q: float) -> float:
    return round(float(np.percentile(np.array(samples) * 1000, q)), 2)


def _stats(samples: list[float]) -> dict[str, float]:
    return {"p50": _p(samples, 50), "p99": _p(samples, 99)}


class LoadSampler:
    """Samples ``/proc/loadavg`` every ``every`` s in a thread: the 1-minute load and the tasks running now."""

    def __init__(self, every: float = 0.5) -> None:
        self.every = every
        self.loads: list[float] = []
        self.running: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            try:
                fields = Path("/proc/loadavg").read_text().split()
            except OSError:  # not Linux: the interpreter's view of the 1-minute load only
                fields = [str(os.getloadavg()[0]), "0/0"]
            self.loads.append(float(fields[0]))
            self.running.append(int(fields[3].split("/")[0]) - 1)  # minus this sampler's own read
            if self._stop.wait(self.every):
                return

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def figures(self) -> dict[str, float]:
        """Mean and highest 1-minute load average, and mean number of other tasks running, over the samples."""
        return {
            "load1_mean": round(float(np.mean(self.loads)), 1),
            "load1_max": round(max(self.loads), 1),
            "running_mean": round(float(np.mean(self.running)), 1),
        }


def reference_cpu() -> None:
    """A fixed piece of pure-Python work (about 1 ms on an idle core): how much slower the machine is now."""
    total = 0
    for i in range(20_000):
        total += i * i % 7
    assert total > 0


def query_round(db: Database, made: list[Station], keys: dict[str, int], days: int, queries: int) -> dict[str, Any]:
    """``queries`` of each kind at random stations, days and hours, each next to both references; figures."""
    t: dict[str, list[float]] = {k: [] for k in ("day", "hour", "sql_day", "sql_hour", "ref_db", "ref_cpu")}
    every = list(keys.values())

    def timed(name: str, call: Any) -> Any:
        t0 = time.perf_counter()
        out = call()
        t[name].append(time.perf_counter() - t0)
        return out

    with LoadSampler() as load:
        for _ in range(queries):
            st = random.choice(made).id
            day = YEAR_START + 86_400 * random.randrange(days)
            hour = YEAR_START + 3600 * random.randrange(days * 24)
            timed("ref_db", partial(db.scenes.get, SCENE))
            timed("ref_cpu", reference_cpu)
            doc = timed("day", partial(observations, db, SCENE, "15min", str(day), str(day + 86_400), st, None))
            assert len(doc["starts"]) >= 96
            timed("sql_day", partial(db.sensors.series, [keys[st]], day, day + 86_400))
            doc = timed("hour", partial(observations, db, SCENE, "hour", str(hour), str(hour + 3600), None, None))
            assert len(doc["stations"]) == len(made)
            timed("sql_hour", partial(db.sensors.hourly, every, hour, hour + 3600))
    refs = {"ref_db": _stats(t["ref_db"]), "ref_cpu": _stats(t["ref_cpu"])}
    ratio = {
        f"{q}_p99_over_{r}_p99": round(_p(t[q], 99) / max(_p(t[r], 99), 1e-3), 1)
        for q in ("day", "hour")
        for r in ("ref_db", "ref_cpu")
    }
    return {
        "one_station_one_day_ms": _stats(t["day"]),
        "all_stations_one_hour_ms": _stats(t["hour"]),
        "storage_only_ms": {
            "one_station_one_day": _stats(t["sql_day"]),
            "all_stations_one_hour": _stats(t["sql_hour"]),
        },
        "reference_ms": refs,
        "ratios": ratio,
        "load": load.figures(),
    }


def run(stations: int, days: int, queries: int, work: Path, rounds: int = 1) -> dict[str, Any]:
    """Ingest ``stations`` x ``days`` of 15-minute counts into a fresh SQLite file in ``work``; measure.

    The queries run in ``rounds`` rounds (the machine's load sampled in each); the top-level query figures
    are those of the round with the lowest p99 of "all stations, one hour", every round is kept in ``rounds``.
    """
    db = Database(work / "twin.db")
    db.scenes.put(SCENE, "bench", "")
    db.sensors.put_source(SCENE, "bench", live=False, timezone="Europe/Berlin", state="ok")
    profile, scales = day_profiles()
    rng = np.random.default_rng(18)
    made = [
        Station(f"bench-{i}", "bench", f"Station {i}", "bicycle", str(i), str(i), _point(i), {"name": "Anzahl"})
        for i in range(stations)
    ]
    keys = db.sensors.put_stations(SCENE, made)
    ingest_s = 0.0
    rows = 0
    with LoadSampler(every=2.0) as ingest_load:
        for i, st in enumerate(made):
            batch = generate(keys[st.id], days, profile, float(scales[i % len(scales)]), rng)
            t0 = time.perf_counter()
            rows += db.sensors.add_rows(batch)
            ingest_s += time.perf_counter() - t0
    again_t0 = time.perf_counter()
    duplicate = db.sensors.add_rows(generate(keys[made[0].id], days, profile, float(scales[0]), rng))
    again_s = time.perf_counter() - again_t0
    with db.connection.connect() as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = sum(p.stat().st_size for p in work.glob("twin.db*"))
    random.seed(18)
    results = [query_round(db, made, keys, days, queries) for _ in range(rounds)]
    best = min(results, key=lambda r: r["all_stations_one_hour_ms"]["p99"])
    return {
        "stations": stations,
        "days": days,
        "observations": rows,
        "ingest_s": round(ingest_s, 2),
        "ingest_obs_per_s": round(rows / ingest_s) if ingest_s else None,
        "ingest_load": ingest_load.figures(),
        "reingest_one_station_s": round(again_s, 3),
        "reingest_new_rows": duplicate,
        "db_bytes": size,
        "bytes_per_observation": round(size / rows, 1) if rows else None,
        **{k: best[k] for k in ("one_station_one_day_ms", "all_stations_one_hour_ms", "storage_only_ms")},
        "rounds": results,
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "queries": queries,
        "cpus": os.cpu_count(),
    }


def _point(i: int) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [9.9 + (i % 40) * 0.005, 53.5 + (i // 40) * 0.005]}


def main() -> None:
    """Parse arguments, run, print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=800)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--queries", type=int, default=200, help="queries of each kind per round")
    parser.add_argument("--rounds", type=int, default=3, help="query rounds (the load is sampled in each)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the database (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        result = run(args.stations, args.days, args.queries, Path(tmp), args.rounds)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
