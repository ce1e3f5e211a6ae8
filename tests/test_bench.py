"""The benchmarks' set-up path: `make bench-quick` runs end to end from this checkout at tiny sizes.

Timing is not checked (benchmarks measure speed, tests do not); this catches a missing install step or a
broken script before someone runs the real benchmark on a fresh clone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(600)
def test_bench_quick_runs_at_tiny_sizes(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = tmp_path / "results"
    proc = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "bench-quick",
            "BENCH_QUICK_SIZES=300",
            "BENCH_QUICK_PEER=100",
            "BENCH_QUICK_SERVE=1s",
            f"BENCH_QUICK_OUT={out}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    cases = [row["case"] for row in json.loads((out / "build.json").read_text())["results"]]
    assert any("py3dtiles" in case for case in cases)
    assert any("300 buildings" in case for case in cases)
    serve = (out / "serve.txt").read_text()
    assert serve.count("req/s") == 5, serve
    # Every line of the serving run must report its errors as zero (wrk prints "Non-2xx" or "Socket errors").
    assert "Non-2xx" not in serve and "Socket errors" not in serve, serve
