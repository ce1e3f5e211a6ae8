"""Buckets, daily totals, peak hours and profiles in the scene's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from twin.sensors.aggregate import bucket_edges, bucket_sums, summary

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
