"""bench/sensors.py runs end to end at a tiny size (its figures are the benchmark's business, not checked)."""

from __future__ import annotations

from pathlib import Path

from bench.sensors import day_profiles, run


def test_bench_sensors_at_a_tiny_size(tmp_path: Path) -> None:
    profile, scales = day_profiles()
    assert profile.shape == (96,) and abs(profile.mean() - 1) < 1e-9 and len(scales) == 100
    # the real profile has a night trough and a day peak
    assert profile[8:16].mean() < 0.3 < 1.5 < profile[28:76].max()
    result = run(stations=3, days=2, queries=3, work=tmp_path)
    assert result["observations"] == 3 * 2 * 96 and result["reingest_new_rows"] == 0
    assert result["db_bytes"] > 0 and result["one_station_one_day_ms"]["p99"] >= 0
