"""Ingest a scene's sensors sources into the database, idempotently, and refresh live ones with back-off.

An upstream that fails keeps what is stored: the source's state becomes ``unreachable`` (with the error and
the time of the last success) and its next attempt waits ``refresh * 2**failures`` seconds, at most a day.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from server.storage import Database
from twin.errors import TwinError
from twin.sensors.fetch import AddressCheck, SourceResult, is_public_address, read_source
from twin.sensors.parse import Region, expand_bounds
from twin.sensors.spec import SensorSourceSpec

log = logging.getLogger(__name__)

#: The longest wait between attempts of a failing live source (s).
MAX_BACKOFF = 86_400.0


def scene_region(spec: SensorSourceSpec, bounds: Sequence[float] | None) -> Region | None:
    """Where the source's stations must lie: its own ``bbox`` or the scene's bounds, grown by ``margin``."""
    box = spec.bbox or (tuple(bounds[:4]) if bounds and len(bounds) >= 4 else None)
    return expand_bounds(box, spec.margin) if box else None


def ingest_source(
    db: Database,
    scene: str,
    spec: SensorSourceSpec,
    bounds: Sequence[float] | None,
    *,
    address_ok: AddressCheck = is_public_address,
    now: Callable[[], float] = time.time,
    **retry: Any,
) -> dict[str, Any]:
    """Read one source and store its stations and new observations; returns the source's new state.

    The state's ``report`` holds the ingest report plus ``stored`` (new observations) and ``duplicates``.
    """
    started = now()
    result: SourceResult = read_source(spec, scene_region(spec, bounds), address_ok=address_ok, **retry)
    keys = db.sensors.put_stations(scene, result.stations)
    known = [o for o in result.observations if o.station in keys]
    for o in result.observations:
        if o.station not in keys:
            result.report.skip(o.station, "observation of an unknown station")
    stored = db.sensors.add_observations(scene, known, keys)
    report = result.report.to_dict()
    report["stored"] = stored
    report["duplicates"] = len(known) - stored
    if bounds is None and spec.bbox is None:
        report["note"] = "no scene extent yet (nothing published): every station kept"
    previous = db.sensors.source(scene, spec.name) or {}
    failures = int(previous.get("failures", 0)) + 1 if result.error else 0
    wait = min(spec.refresh * 2**failures, MAX_BACKOFF) if spec.live else None
    db.sensors.put_source(
        scene,
        spec.name,
        live=spec.live,
        timezone=spec.timezone,
        state="unreachable" if result.error else "ok",
        error=result.error or "",
        failures=failures,
        last_attempt=started,
        last_success=previous.get("last_success") if result.error else started,
        next_due=started + wait if wait is not None else None,
        report=report,
    )
    state = db.sensors.source(scene, spec.name)
    assert state is not None
    return state


def ingest_scene(
    db: Database,
    scene: str,
    specs: Sequence[SensorSourceSpec],
    bounds: Sequence[float] | None,
    *,
    live: bool = True,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """Ingest every source of a scene (recorded ones only when ``live`` is False); returns their states."""
    return [ingest_source(db, scene, s, bounds, **kwargs) for s in specs if live or not s.live]


def scene_bounds(info_path: Path) -> list[float] | None:
    """The ``bounds`` of a build's scene.json, or None."""
    import json

    try:
        bounds = json.loads(info_path.read_text(encoding="utf-8")).get("bounds")
    except (OSError, ValueError):
        return None
    return [float(v) for v in bounds[:4]] if isinstance(bounds, list) and len(bounds) >= 4 else None


def scene_status(db: Database, scene: str) -> dict[str, Any]:
    """What a scene's sensors are: each source's state, the number of stations and observations, time range."""
    sources = db.sensors.sources(scene)
    span = db.sensors.time_range(scene)
    _, stations = db.sensors.stations(scene, limit=0)
    states = {s["state"] for s in sources}
    return {
        "state": "none" if not sources else "unreachable" if "unreachable" in states else "ok",
        "stations": stations,
        "observations": db.sensors.observation_count(scene),
        "time_range": {"start": span[0], "end": span[1]} if span else None,
        "timezone": sources[0]["timezone"] if sources else "UTC",
        "sources": sources,
    }


class Refresher:
    """A thread that ingests the live sources of registered scenes when they are due.

    ``load`` gives ``(scene, specs, bounds)`` for every scene with sensors (read from manifests and the
    published build); a source is due when it has never run or its ``next_due`` has passed.
    """

    def __init__(
        self,
        db: Database,
        load: Callable[[], list[tuple[str, Sequence[SensorSourceSpec], Sequence[float] | None]]],
        tick: float = 10.0,
        address_ok: AddressCheck = is_public_address,
    ) -> None:
        self.db, self.load, self.tick, self.address_ok = db, load, tick, address_ok
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, now: float | None = None) -> int:
        """Ingest every due live source once; returns how many ran."""
        t = time.time() if now is None else now
        ran = 0
        for scene, specs, bounds in self.load():
            for spec in specs:
                if not spec.live:
                    continue
                state = self.db.sensors.source(scene, spec.name)
                if state and state["next_due"] is not None and state["next_due"] > t:
                    continue
                try:
                    ingest_source(self.db, scene, spec, bounds, address_ok=self.address_ok)
                except Exception:  # never let one scene stop the refresher; the next tick tries again
                    log.exception("sensors refresh of %s/%s failed", scene, spec.name)
                ran += 1
                if self._stop.is_set():
                    return ran
        return ran

    def start(self) -> None:
        """Run in a daemon thread until :meth:`stop`."""
        if self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(self.tick):
                self.run_once()

        self._thread = threading.Thread(target=loop, name="sensors-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (waits for the current source to finish)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None


def manifest_sources(db: Database, store: Any) -> list[tuple[str, Sequence[SensorSourceSpec], Sequence[float] | None]]:
    """``(scene, sensors specs, published bounds)`` for every registered scene whose manifest has sensors."""
    from twin.scene import load_scene

    out: list[tuple[str, Sequence[SensorSourceSpec], Sequence[float] | None]] = []
    for row in db.scenes.all():
        if not row.get("manifest"):
            continue
        try:
            scene = load_scene(row["manifest"])
        except (TwinError, OSError) as exc:
            log.warning("sensors: cannot read the manifest of %s: %s", row["id"], exc)
            continue
        if not scene.sensors:
            continue
        build = store.published(row["id"])
        bounds = scene_bounds(store.build_dir(row["id"], build) / "scene.json") if build else None
        out.append((row["id"], scene.sensors, bounds))
    return out
