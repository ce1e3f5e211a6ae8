"""Distributed-build scaling: the generated set built by today's process pool and by 1, 2 and 4 Dask workers.

    python -m bench.scale                    # the 1M generated set (bench/generate.py)
    python -m bench.scale --size 100000      # smaller, for a try

Every build runs as a separate ``twin build`` process (``--no-cache``), one after the other in one session:
the process pool first (``-j`` all cores), then ``--scheduler local --workers N`` for each N. Each run is
sampled every half second for the proportional set size (PSS) of every process of its tree: the client
(the ``twin build`` process) and each Dask worker process (spawned by the cluster's nannies) get their own
peak. Each Dask build's tileset.json and blob names are compared with the process pool's (they must be
equal). Results go to bench/results/scale.json; bench/README.md quotes them. Ratios are to the 1-worker
Dask run and to the process pool of the same session: on a shared machine only ratios from one run mean
much.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from bench.build import WORK, _manifest
from bench.generate import write_gpkg
from bench.measure import run

REPO = Path(__file__).resolve().parent.parent
TWIN = [sys.executable, "-m", "twin"]


def _is_worker(p: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return "spawn_main" in " ".join(p.cmdline())
    return False


def measured_build(cmd: list[str], interval: float = 0.5) -> dict[str, Any]:
    """Run a ``twin build``; wall seconds, peak PSS (MiB) of the client, of each worker and of the whole tree."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    root = psutil.Process(proc.pid)
    peaks: dict[int, int] = {}
    workers: set[int] = set()
    tree_peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal tree_peak
        while not stop.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for p in procs:
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    pss = p.memory_full_info().pss
                    total += pss
                    peaks[p.pid] = max(peaks.get(p.pid, 0), pss)
                    if p.pid not in workers and _is_worker(p):
                        workers.add(p.pid)
            tree_peak = max(tree_peak, total)
            stop.wait(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = proc.communicate()
    stop.set()
    thread.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out[-3000:]}")
    mib = 2**20
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "client_peak_mib": round(peaks.get(proc.pid, 0) / mib, 1),
        "worker_peak_mib": sorted((round(peaks[w] / mib, 1) for w in workers), reverse=True),
        "tree_peak_mib": round(tree_peak / mib, 1),
    }


def _tileset(out: Path) -> dict[str, Any]:
    data = json.loads((out / "tileset.json").read_text())
    data["asset"].pop("tilesetVersion", None)
    return data


def client_costs(n: int, per_part: int = 50_000) -> dict[str, Any]:
    """Time the client's whole-city steps at ``n`` buildings on synthetic summaries (run in a child, measured).

    Finding ids read again by a later partition (np.unique over every id hash) and cutting the buckets into
    tasks are the client's only steps that grow with the city; the rest is per tile.
    """
    import numpy as np

    from twin.distributed.grid import task_nodes
    from twin.distributed.pipeline import _duplicates
    from twin.distributed.tasks import ReadSummary
    from twin.report import Report

    rng = np.random.default_rng(1)
    parts = []
    for start in range(0, n, per_part):
        k = min(per_part, n - start)
        seen = rng.integers(0, 2**63, k, dtype=np.uint64)
        parts.append(ReadSummary("", k, np.zeros((2, 2)), None, seen, np.ones(k, bool), Report()))
    t = time.perf_counter()
    drops = _duplicates(parts)
    dedupe = time.perf_counter() - t
    # Germany-like: 1 km content tiles under a 1,024 km root, buckets at level 9 (2 km), 40 % of them occupied.
    cells = 4**9
    keys = rng.choice(cells, int(cells * 0.4), replace=False)
    names = {"".join(str((int(c) >> (2 * (8 - d))) & 3) for d in range(9)): n // len(keys) for c in keys}
    t = time.perf_counter()
    tasks = task_nodes(names, 9, 25_000)
    cutting = time.perf_counter() - t
    return {
        "buildings": n,
        "partitions": len(parts),
        "dedupe_seconds": round(dedupe, 2),
        "duplicates": int(sum(len(d) for d in drops)),
        "cells": len(names),
        "tasks": len(tasks),
        "task_cutting_seconds": round(cutting, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=1_000_000, help="generated buildings")
    ap.add_argument("--workers", default="1,2,4", help="Dask worker counts, comma-separated")
    ap.add_argument("--results", type=Path, default=REPO / "bench" / "results" / "scale.json", help="JSON written here")
    ap.add_argument("--client-at", type=int, default=57_000_000, help="time the client's steps at this size (0: skip)")
    ap.add_argument("--client-only", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.client_only:
        print(json.dumps(client_costs(args.client_only)))
        return
    WORK.mkdir(parents=True, exist_ok=True)
    gpkg = WORK / f"gen-{args.size}.gpkg"
    if not gpkg.exists():
        write_gpkg(gpkg, args.size)
    scene = _manifest(WORK / f"gen-{args.size}-scene", f"gen-{args.size}", gpkg)
    pool_out, dask_out = WORK / f"scale-{args.size}-pool", WORK / f"scale-{args.size}-dask"
    rows: list[dict[str, Any]] = []
    meta = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, shared with other engineers' jobs (noisy)",
        "python": platform.python_version(),
        "buildings": args.size,
    }
    extra: dict[str, Any] = {}

    def save() -> None:  # after every run, so an interrupted session keeps what it measured
        meta["load_average"] = [round(x, 2) for x in os.getloadavg()]
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps({"meta": meta, "results": rows, **extra}, indent=2) + "\n")

    if args.client_at:
        m = run([sys.executable, "-m", "bench.scale", "--client-only", str(args.client_at)])
        if m.returncode != 0:
            raise SystemExit(f"client costs failed:\n{m.output[-3000:]}")
        costs = json.loads(m.output.strip().splitlines()[-1])
        extra["client_at_scale"] = {**costs, "peak_mib": round(m.peak_mib, 1), "seconds": round(m.seconds, 2)}
        print(json.dumps(extra["client_at_scale"]), flush=True)
        save()
    shutil.rmtree(pool_out, ignore_errors=True)
    pool = measured_build([*TWIN, "build", str(scene), "-o", str(pool_out), "--no-cache"])
    pool_report = json.loads((pool_out / "report.json").read_text())
    pool.update(case="process pool (today's build)", jobs=pool_report["jobs"], build_seconds=pool_report["seconds"])
    rows.append(pool)
    print(json.dumps(pool), flush=True)
    save()
    reference = _tileset(pool_out)
    blobs = {p.name for p in (pool_out / "blobs").iterdir()}
    for n in (int(w) for w in args.workers.split(",") if w):
        shutil.rmtree(dask_out, ignore_errors=True)
        dask = ["--scheduler", "local", "--workers", str(n)]
        row = measured_build([*TWIN, "build", str(scene), "-o", str(dask_out), "--no-cache", *dask])
        report = json.loads((dask_out / "report.json").read_text())
        row.update(
            case=f"Dask, {n} worker process{'es' if n > 1 else ''}",
            workers=n,
            build_seconds=report["seconds"],
            dask=report["dask"],
            same_tileset=_tileset(dask_out) == reference,
            same_blobs={p.name for p in (dask_out / "blobs").iterdir()} == blobs,
        )
        rows.append(row)
        print(json.dumps(row), flush=True)
        _ratios(rows)
        save()
    shutil.rmtree(dask_out, ignore_errors=True)
    shutil.rmtree(pool_out, ignore_errors=True)
    save()


def _ratios(rows: list[dict[str, Any]]) -> None:
    pool = rows[0]
    one = next((r for r in rows if r.get("workers") == 1), None)
    for r in rows:
        r["ratio_to_pool"] = round(r["seconds"] / pool["seconds"], 3)
        if one is not None:
            r["ratio_to_1_worker"] = round(r["seconds"] / one["seconds"], 3)


if __name__ == "__main__":
    main()
