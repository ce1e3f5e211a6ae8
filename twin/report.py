"""The build report: what was read, repaired, skipped (with reasons), written, and how long it took.

Per-feature problems are recorded here instead of raised, so one bad feature never stops a build.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: Keep at most this many example ids per reason, so a report of a million buildings stays small.
MAX_EXAMPLES = 20


@dataclass
class Report:
    """Counters and reasons collected by every stage of a build.

    ``counts`` holds named counters (``read``, ``written``, ``default_height``, ``roof_fallback``, ...);
    ``skipped`` and ``repaired`` count reasons, with a few example ids each in ``examples``.
    """

    counts: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    repaired: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    groups: dict[str, Counter[str]] = field(default_factory=dict)

    def count(self, key: str, n: int = 1) -> None:
        """Add ``n`` to the counter ``key``."""
        self.counts[key] += n

    def tally(self, group: str, key: str, n: int = 1) -> None:
        """Add ``n`` to ``key`` of the counter group ``group`` (e.g. ``height_default_by_type``: ``house``)."""
        self.groups.setdefault(group, Counter())[key] += n

    def skip(self, feature_id: str, reason: str) -> None:
        """Record that a feature was left out, and why (a short, stable reason such as ``"zero area"``)."""
        self.skipped[reason] += 1
        self._example(f"skipped: {reason}", feature_id)

    def repair(self, feature_id: str, reason: str) -> None:
        """Record that a feature was changed to make it valid, and how."""
        self.repaired[reason] += 1
        self._example(f"repaired: {reason}", feature_id)

    def _example(self, key: str, feature_id: str) -> None:
        ids = self.examples.setdefault(key, [])
        if len(ids) < MAX_EXAMPLES:
            ids.append(feature_id)

    def merge(self, other: Report) -> None:
        """Add another report's counters into this one (used to combine worker results)."""
        self.counts.update(other.counts)
        self.skipped.update(other.skipped)
        self.repaired.update(other.repaired)
        for key, ids in other.examples.items():
            mine = self.examples.setdefault(key, [])
            mine.extend(ids[: MAX_EXAMPLES - len(mine)])
        self.info.update(other.info)
        for group, counter in other.groups.items():
            self.groups.setdefault(group, Counter()).update(counter)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "counts": dict(self.counts),
            "skipped": dict(self.skipped),
            "repaired": dict(self.repaired),
            "examples": self.examples,
            **{group: dict(counter.most_common()) for group, counter in self.groups.items()},
            **self.info,
        }

    def to_json(self) -> str:
        """The report as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def summary(self) -> str:
        """A short human summary, a few lines."""
        c = self.counts
        lines = [
            f"buildings read {c['read']}, written {c['written']}, "
            f"repaired {sum(self.repaired.values())}, skipped {sum(self.skipped.values())}",
        ]
        if self.skipped:
            lines.append("  skipped: " + ", ".join(f"{k} {v}" for k, v in self.skipped.most_common()))
        if self.repaired:
            lines.append("  repaired: " + ", ".join(f"{k} {v}" for k, v in self.repaired.most_common()))
        extra = {k: v for k, v in c.items() if k not in ("read", "written")}
        if extra:
            lines.append("  " + ", ".join(f"{k} {v}" for k, v in sorted(extra.items())))
        for group, counter in sorted(self.groups.items()):
            lines.append(f"  {group}: " + ", ".join(f"{k} {v}" for k, v in counter.most_common()))
        for key in ("tiles", "bytes", "seconds"):
            if key in self.info:
                lines.append(f"  {key}: {self.info[key]}")
        return "\n".join(lines)
