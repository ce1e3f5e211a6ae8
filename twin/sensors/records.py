"""Station and observation records of a sensors source, and the per-station ingest report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: Station kinds the viewer tells apart.
KINDS = ("bicycle", "car", "other")

#: Keep at most this many problems per station (a broken stream of a year must not fill the report).
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Station:
    """One counted quantity at one place: a SensorThings Datastream with its Thing and position.

    ``id`` is ``<source>-<datastream @iot.id>``; ``geometry`` is GeoJSON in lon/lat (WGS 84): a Point, or the
    counted road section as a LineString.
    """

    id: str
    source: str
    name: str
    kind: str
    thing: str
    datastream: str
    geometry: dict[str, Any]
    unit: dict[str, Any]
    properties: dict[str, Any] = field(default_factory=dict)

    def to_feature(self) -> dict[str, Any]:
        """The station as a GeoJSON Feature."""
        props = {
            "name": self.name,
            "kind": self.kind,
            "source": self.source,
            "thing": self.thing,
            "datastream": self.datastream,
            "unit": self.unit,
            **self.properties,
        }
        return {"type": "Feature", "id": self.id, "geometry": self.geometry, "properties": props}


@dataclass(frozen=True)
class Observation:
    """One result of a station over ``[start, end]`` (UNIX seconds, UTC; ``end == start`` for an instant)."""

    station: str
    start: int
    end: int
    result: float


@dataclass
class IngestReport:
    """What an ingest read, stored, repaired and skipped, per station and per page.

    ``problems[station]`` lists ``{"action": "skipped"|"repaired", "reason": ..., "detail": ...}``;
    page-level problems (a looping nextLink, a huge page, a time-out) are filed under the source's name.
    """

    counts: Counter[str] = field(default_factory=Counter)
    problems: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    reasons: Counter[str] = field(default_factory=Counter)

    def count(self, key: str, n: int = 1) -> None:
        """Add ``n`` to the counter ``key`` (``stations``, ``observations``, ``pages``, ...)."""
        self.counts[key] += n

    def skip(self, where: str, reason: str, detail: str = "") -> None:
        """Record that something of ``where`` (a station id or a source name) was left out, and why."""
        self._note(where, "skipped", reason, detail)

    def repair(self, where: str, reason: str, detail: str = "") -> None:
        """Record that something of ``where`` was changed to make it usable, and how."""
        self._note(where, "repaired", reason, detail)

    def _note(self, where: str, action: str, reason: str, detail: str) -> None:
        self.reasons[f"{action}: {reason}"] += 1
        items = self.problems.setdefault(where, [])
        if len(items) < MAX_PROBLEMS:
            items.append({"action": action, "reason": reason, "detail": detail})

    def merge(self, other: IngestReport) -> None:
        """Add another report into this one."""
        self.counts.update(other.counts)
        self.reasons.update(other.reasons)
        for where, items in other.problems.items():
            mine = self.problems.setdefault(where, [])
            mine.extend(items[: MAX_PROBLEMS - len(mine)])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"counts": dict(self.counts), "reasons": dict(self.reasons), "problems": self.problems}
