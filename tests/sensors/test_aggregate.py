"""Buckets, daily totals, peak hours and profiles in the scene's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from twin.sensors.aggregate import bucket_edges, bucket_sums, day_rollup, rollup_hours, summary

BERLIN = ZoneInfo("Europe/Berlin")


def ts(text: str, tz: ZoneInfo = BERLIN) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=tz).timestamp())


def test_day_buckets_follow_local_midnight_across_dst() -> None:
    edges = bucket_edges(ts("2023-03-25T00:00"), ts("2023-03-28T00:00"), "day", "Europe/Berlin")
    assert list(np.diff(edges)) == [86_400, 82_800, 86_400]  # 26 March 2023 had 23 hours in Berlin
    assert edges[0] == ts("2023-03-25T00:00")


def test_sub_day_buckets_cover_the_range() -> None:
    a, b = ts("2023-03-23T10:07"), ts("2023-03-23T11:00")
    edges = bucket_edges(a, b, "15min", "Europe/Berlin")
    assert edges[0] == ts("2023-03-23T10:00") and edges[-1] >= b and edges[-2] < b
    assert set(np.diff(edges)) == {900}
    hours = bucket_edges(ts("2023-03-26T00:00"), ts("2023-03-26T05:00"), "hour", "Europe/Berlin")
    assert len(hours) == 5  # four local hours that day (02:00 does not exist), edges on the hour


def test_bucket_sums_and_summary() -> None:
    day = ts("2023-03-22T00:00")  # a Wednesday
    starts = np.array([day + 8 * 3600, day + 8 * 3600 + 900, day + 17 * 3600, day + 3 * 86_400 + 9 * 3600])
    values = np.array([10.0, 20.0, 5.0, 7.0])
    edges = bucket_edges(day, day + 4 * 86_400, "day", "Europe/Berlin")
    sums, counts = bucket_sums(starts, values, edges)
    assert list(sums) == [35.0, 0.0, 0.0, 7.0] and list(counts) == [3, 0, 0, 1]
    s = summary(starts, values, "Europe/Berlin")
    assert [d["date"] for d in s["days"]] == ["2023-03-22", "2023-03-25"]
    assert s["days"][0] == {"date": "2023-03-22", "total": 35.0, "observations": 3, "peak_hour": 8, "peak": 30.0}
    assert s["profiles"]["weekday"][8] == 30.0 and s["profiles"]["weekend"][9] == 7.0
    assert s["profiles"]["weekday"][0] is None
    assert s["peak_hour"] == {"weekday": 8, "weekend": 9}
    assert s["total"] == 42.0 and s["mean_daily"] == 21.0
    empty = summary(np.zeros(0, dtype=np.int64), np.zeros(0), "UTC")
    assert empty["days"] == [] and empty["peak_hour"] == {"weekday": None, "weekend": None}


def test_day_rollup_sums_per_utc_day_and_hour_in_any_order() -> None:
    day = ts("2023-03-22T00:00", ZoneInfo("UTC"))
    streams = np.array([7, 3, 7, 7, 3, 7])
    starts = np.array([day + 3600 + 900, day + 86_400 + 5, day + 3600, day + 23 * 3600 + 2700, day, day + 3 * 86_400])
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    rollup = day_rollup(streams, starts, values)
    # ordered by stream, then day; empty days have no row
    assert list(rollup.streams) == [3, 3, 7, 7] and list(rollup.days) == [day, day + 86_400, day, day + 3 * 86_400]
    assert rollup.sums[0, 0] == 5.0 and rollup.sums[1, 0] == 2.0
    assert rollup.sums[2, 1] == 4.0 and rollup.numbers[2, 1] == 2 and rollup.sums[2, 23] == 4.0
    assert rollup.numbers.sum() == 6 and rollup.sums.sum() == values.sum()
    # hours back out, only the non-empty ones in range; hourly sums standing for several observations add up
    s, t, v, n = rollup_hours(rollup, day + 3600, day + 86_400)
    assert list(zip(s, t, v, n, strict=True)) == [(7, day + 3600, 4.0, 2), (7, day + 23 * 3600, 4.0, 1)]
    again = day_rollup(s, t, v, n)
    assert list(again.numbers.sum(axis=1)) == [3] and again.sums[0, 1] == 4.0
    empty = day_rollup(np.zeros(0), np.zeros(0), np.zeros(0))
    assert len(empty.days) == 0 and empty.sums.shape == (0, 24)
