"""Counts over time: buckets (15 min, hour, day) in the scene's time zone, daily totals, peak hour, profiles.

Pure numpy over arrays of observation starts (UNIX seconds) and values; the server's storage hands them
over, already summed per UTC hour where a range is long.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

#: Bucket names and their length in seconds (a day is a local calendar day, 23 to 25 hours).
BUCKETS = {"15min": 900, "hour": 3600, "day": 86_400}


def _offsets(starts: np.ndarray, tz: str) -> np.ndarray:
    """UTC offset (s) of ``tz`` at each start; looked up once per distinct UTC hour."""
    zone = ZoneInfo(tz)
    hours = starts // 3600
    uniq, inverse = np.unique(hours, return_inverse=True)
    offs = np.array(
        [int(datetime.fromtimestamp(int(h) * 3600, UTC).astimezone(zone).utcoffset().total_seconds()) for h in uniq],  # type: ignore[union-attr]
        dtype=np.int64,
    )
    return offs[inverse] if len(uniq) else np.zeros(0, dtype=np.int64)


def local_seconds(starts: np.ndarray, tz: str) -> np.ndarray:
    """``starts`` (UNIX s) as seconds since 1970-01-01 00:00 *local* time in ``tz``."""
    s = np.asarray(starts, dtype=np.int64)
    return s + _offsets(s, tz)


def bucket_edges(start: int, end: int, bucket: str, tz: str = "UTC") -> np.ndarray:
    """Bucket boundaries (UNIX s) covering ``[start, end)``, aligned to ``tz``'s clock; ``(n + 1,)`` int64.

    Sub-day buckets are aligned to the local clock at ``start`` (offsets change by whole hours, so the
    alignment holds across a DST change); day buckets run from local midnight to local midnight.
    """
    if bucket not in BUCKETS:
        raise ValueError(f"unknown bucket {bucket!r}; expected one of {', '.join(BUCKETS)}")
    if end <= start:
        return np.array([start], dtype=np.int64)
    zone = ZoneInfo(tz)
    if bucket != "day":
        size = BUCKETS[bucket]
        off = int(local_seconds(np.array([start]), tz)[0]) - start
        first = (start + off) // size * size - off
        steps = -(-(end - first) // size)  # buckets until the one holding end - 1
        return first + size * np.arange(steps + 1, dtype=np.int64)
    day = datetime.fromtimestamp(start, zone).date()
    edges = []
    while True:
        midnight = int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())
        edges.append(midnight)
        if midnight >= end:
            break
        day += timedelta(days=1)
    return np.array(edges, dtype=np.int64)


def bucket_sums(
    starts: np.ndarray, values: np.ndarray, edges: np.ndarray, counts: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Sum and number of observations per bucket ``[edges[i], edges[i+1])``; ``(len(edges) - 1,)`` each.

    ``counts`` says how many observations each value stands for (hourly sums); one each by default.
    """
    sums, number = grouped_bucket_sums(np.zeros(len(starts), dtype=np.int64), starts, values, edges, 1, counts)
    return sums[0], number[0]


def grouped_bucket_sums(
    groups: np.ndarray,
    starts: np.ndarray,
    values: np.ndarray,
    edges: np.ndarray,
    n_groups: int,
    counts: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`bucket_sums` for many series at once: ``groups`` (0..n_groups-1) per value; ``(n_groups, buckets)``."""
    s = np.asarray(starts, dtype=np.int64)
    n = max(len(edges) - 1, 0)
    idx = np.searchsorted(edges, s, side="right") - 1
    ok = (idx >= 0) & (idx < n)
    cell = np.asarray(groups, dtype=np.int64)[ok] * n + idx[ok]
    size = n_groups * n
    sums = np.bincount(cell, weights=np.asarray(values, dtype=np.float64)[ok], minlength=size)[:size]
    weights = None if counts is None else np.asarray(counts, dtype=np.float64)[ok]
    number = np.bincount(cell, weights=weights, minlength=size)[:size].astype(np.int64)
    return sums.reshape(n_groups, n), number.reshape(n_groups, n)


def summary(starts: np.ndarray, values: np.ndarray, tz: str = "UTC") -> dict[str, Any]:
    """Daily totals, each day's peak hour, and mean weekday / weekend profiles (per local hour).

    Returns ``{"days": [{"date", "total", "observations", "peak_hour", "peak"}], "profiles": {"weekday":
    [24 means or None], "weekend": [...]}, "peak_hour": {"weekday": h, "weekend": h}, "total", "mean_daily"}``.
    """
    local = local_seconds(np.asarray(starts, dtype=np.int64), tz)
    v = np.asarray(values, dtype=np.float64)
    day = local // 86_400
    hour = (local % 86_400) // 3600
    days_out: list[dict[str, Any]] = []
    profiles: dict[str, list[float | None]] = {}
    peaks: dict[str, int | None] = {}
    if len(v):
        uniq_days, day_idx = np.unique(day, return_inverse=True)
        cell = day_idx * 24 + hour  # one (day, hour) cell each
        hourly = np.bincount(cell, weights=v, minlength=len(uniq_days) * 24).reshape(-1, 24)
        seen = np.bincount(cell, minlength=len(uniq_days) * 24).reshape(-1, 24) > 0
        obs = np.bincount(day_idx, minlength=len(uniq_days))
        for i, d in enumerate(uniq_days):
            row = np.where(seen[i], hourly[i], -np.inf)
            h = int(np.argmax(row))
            days_out.append(
                {
                    "date": (datetime(1970, 1, 1) + timedelta(days=int(d))).date().isoformat(),
                    "total": float(hourly[i].sum()),
                    "observations": int(obs[i]),
                    "peak_hour": h,
                    "peak": float(hourly[i, h]),
                }
            )
        weekend = ((uniq_days + 3) % 7) >= 5  # 1970-01-01 was a Thursday; Monday is 0
        for name, mask in (("weekday", ~weekend), ("weekend", weekend)):
            n = seen[mask].sum(axis=0)
            total = np.where(seen[mask], hourly[mask], 0.0).sum(axis=0)
            mean = [float(t / c) if c else None for t, c in zip(total, n, strict=True)]
            profiles[name] = mean
            filled = [m if m is not None else -1.0 for m in mean]
            peaks[name] = int(np.argmax(filled)) if any(m is not None for m in mean) else None
    else:
        profiles = {"weekday": [None] * 24, "weekend": [None] * 24}
        peaks = {"weekday": None, "weekend": None}
    total = float(v.sum())
    return {
        "timezone": tz,
        "total": total,
        "mean_daily": total / len(days_out) if days_out else None,
        "days": days_out,
        "profiles": profiles,
        "peak_hour": peaks,
    }


class DayRollup(NamedTuple):
    """Per ``(UTC day, stream)``: the sum and number of observations in each UTC hour (24 of each per row).

    What the server keeps at ingest so that time slices over many stations ("all stations, one hour") read
    one short range of a day-major table instead of one range per station.
    """

    days: np.ndarray  # (n,) UNIX s of each UTC midnight
    streams: np.ndarray  # (n,)
    sums: np.ndarray  # (n, 24) float64
    numbers: np.ndarray  # (n, 24) int64


def day_rollup(
    streams: np.ndarray, starts: np.ndarray, values: np.ndarray, numbers: np.ndarray | None = None
) -> DayRollup:
    """Roll observations (or hourly sums, each standing for ``numbers`` observations) up per UTC day and hour.

    Rows come out ordered by stream, then day; a day without observations of a stream has no row.
    """
    st = np.asarray(streams, dtype=np.int64)
    s = np.asarray(starts, dtype=np.int64)
    day = s // 86_400
    # one integer key per (stream, day): days since 1970 stay below 2**17 until the year 2328
    key = (st << 17) | (day - day.min() if len(day) else day)
    uniq, inverse = np.unique(key, return_inverse=True)
    cell = inverse.ravel() * 24 + (s % 86_400) // 3600
    size = len(uniq) * 24
    sums = np.bincount(cell, weights=np.asarray(values, dtype=np.float64), minlength=size).reshape(-1, 24)
    weights = None if numbers is None else np.asarray(numbers, dtype=np.float64)
    number = np.bincount(cell, weights=weights, minlength=size).astype(np.int64).reshape(-1, 24)
    first = day.min() if len(day) else 0
    return DayRollup(((uniq & (2**17 - 1)) + first) * 86_400, uniq >> 17, sums, number)


def rollup_hours(rollup: DayRollup, start: int, end: int, hours: Sequence[int] = range(24)) -> tuple[np.ndarray, ...]:
    """The non-empty hours of ``rollup`` starting in ``[start, end)`` as ``(streams, starts, sums, numbers)``.

    ``hours`` names which of the 24 columns ``sums``/``numbers`` hold (a query may read only some).
    """
    h = np.asarray(list(hours), dtype=np.int64)
    starts = rollup.days[:, None] + 3600 * h[None, :]
    keep = (rollup.numbers > 0) & (starts >= start) & (starts < end)
    streams = np.broadcast_to(rollup.streams[:, None], starts.shape)
    return streams[keep], starts[keep], rollup.sums[keep], rollup.numbers[keep]
