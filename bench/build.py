"""Builder benchmarks: throughput, peak memory, bytes per building, tiles; py3dtiles side by side.

    python -m bench.build                       # demo scene, incremental rebuild, 10k vs py3dtiles, 100k
    python -m bench.build --sizes 100000,1000000 # also the million

Every build runs as a separate ``twin build`` process (what a user runs), measured by bench.measure (wall
time, peak PSS over the process tree). Results are printed and written to bench/results/build.json; the
figures in bench/README.md come from that file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
from pathlib import Path

from bench.generate import write_gpkg
from bench.measure import Measured, run

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "bench" / "work"
TWIN = [sys.executable, "-m", "twin"]


def _manifest(folder: Path, scene_id: str, gpkg: Path, max_tile_side: float = 1000.0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scene.toml").write_text(
        f'id = "{scene_id}"\ncrs = "EPSG:25832"\n[defaults]\nheight_attribute = "hoehe"\nid_attribute = "id"\n'
        f'max_tile_side = {max_tile_side}\n[[sources]]\npath = "{gpkg}"\nformat = "footprints"\n'
    )
    return folder


def _build(source: Path, out: Path, *extra: str) -> tuple[Measured, dict]:
    m = run([*TWIN, "build", str(source), "-o", str(out), *extra])
    if m.returncode != 0:
        raise SystemExit(f"build of {source} failed:\n{m.output[-3000:]}")
    report = json.loads((out / "report.json").read_text())
    return m, report


def _row(name: str, m: Measured, report: dict) -> dict:
    n = report["counts"].get("read", 0)
    return {
        "case": name,
        "buildings": n,
        "seconds": round(m.seconds, 2),
        "build_seconds": report["seconds"],
        "buildings_per_second": round(n / m.seconds, 1),
        "peak_mib": round(m.peak_mib, 1),
        "tiles": report["tiles"],
        "bytes": report["bytes"],
        "bytes_per_building": report["bytes_per_building"],
    }


def bench_demo(results: list[dict]) -> None:
    """The demo scene from scratch, then an incremental rebuild after moving one design."""
    scene_src = REPO / "scenes" / "hamburg-eimsbuettel"
    scene = WORK / "demo-scene"
    shutil.rmtree(scene, ignore_errors=True)
    shutil.copytree(scene_src, scene)
    out = WORK / "demo-out"
    shutil.rmtree(out, ignore_errors=True)
    full, report = _build(scene, out)
    results.append(_row("demo scene (Hamburg, 2 variants), full build", full, report))
    # Move the IFC design by ~5 m and rebuild from the previous build.
    toml = (scene / "scene.toml").read_text().replace("lon = 9.953255", "lon = 9.953330")
    (scene / "scene.toml").write_text(toml)
    inc, report2 = _build(scene, out, "--previous", str(out))
    row = _row("demo scene, incremental rebuild after moving one design", inc, report2)
    # The ratio compares the builder's own time (report["seconds"]): both runs pay the same interpreter start.
    row["ratio_to_full"] = round(report2["seconds"] / report["seconds"], 3)
    row["process_ratio_to_full"] = round(inc.seconds / full.seconds, 3)
    row["tiles_reencoded"] = report2["counts"].get("variant_tiles_encoded", 0)
    results.append(row)


def bench_generated(n: int, results: list[dict], max_tile_side: float = 1000.0) -> None:
    gpkg = WORK / f"gen-{n}.gpkg"
    if not gpkg.exists():
        write_gpkg(gpkg, n)
    scene = _manifest(WORK / f"gen-{n}-scene-{max_tile_side:g}", f"gen-{n}", gpkg, max_tile_side)
    out = WORK / f"gen-{n}-out"
    shutil.rmtree(out, ignore_errors=True)
    m, report = _build(scene, out)
    results.append(_row(f"generated LoD1, {n:,} buildings, content tiles ≤ {max_tile_side:g} m", m, report))
    shutil.rmtree(out, ignore_errors=True)


def bench_py3dtiles(n: int, results: list[dict], repeats: int = 3) -> None:
    """Ours and py3dtiles on the same n buildings, alternating ``repeats`` times; the best run of each counts.

    Alternating in one run, and taking each side's best, keeps a noisy shared machine from favouring either.
    """
    gpkg = WORK / f"gen-{n}.gpkg"
    if not gpkg.exists():
        write_gpkg(gpkg, n)
    scene = _manifest(WORK / f"gen-{n}-scene", f"gen-{n}", gpkg)
    out = WORK / f"gen-{n}-ours"
    peer_out = WORK / f"gen-{n}-py3dtiles"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    ours_runs, peer_runs = [], []
    for _ in range(repeats):
        shutil.rmtree(out, ignore_errors=True)
        ours, report = _build(scene, out, "--no-cache")
        ours_runs.append((report["seconds"], ours.seconds))
        shutil.rmtree(peer_out, ignore_errors=True)
        peer = run([sys.executable, "-m", "bench.py3dtiles_peer", str(n), str(peer_out)], env=env)
        if peer.returncode != 0:
            raise SystemExit(f"py3dtiles failed:\n{peer.output[-3000:]}")
        peer_runs.append((json.loads(peer.output.strip().splitlines()[-1])["py3dtiles_seconds"], peer.seconds))
    valid = run([*TWIN, "validate", str(out)])
    peer_bytes = sum(p.stat().st_size for p in peer_out.rglob("*") if p.is_file())
    ours_best, peer_best = min(ours_runs), min(peer_runs)
    results.append(
        {
            "case": f"{n:,} LoD1 buildings: ours vs py3dtiles (best of {repeats}, alternating)",
            "ours_seconds": ours_best[0],
            "ours_process_seconds": round(min(r[1] for r in ours_runs), 2),
            "ours_valid": valid.returncode == 0,
            "ours_bytes": report["bytes"],
            "py3dtiles_seconds": round(peer_best[0], 2),
            "py3dtiles_process_seconds": round(min(r[1] for r in peer_runs), 2),
            "py3dtiles_bytes": peer_bytes,
            # Library time against library time; process_ratio includes both interpreters' start-up.
            "throughput_ratio": round(peer_best[0] / ours_best[0], 1),
            "process_ratio": round(min(r[1] for r in peer_runs) / min(r[1] for r in ours_runs), 1),
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000", help="generated set sizes, comma-separated")
    ap.add_argument("--peer", type=int, default=10_000, help="buildings for the py3dtiles comparison (0: skip)")
    ap.add_argument("--skip-demo", action="store_true")
    ap.add_argument("--wide", type=int, default=100_000, help="also build this many with 4 km content tiles (0: skip)")
    ap.add_argument("--results", type=Path, default=REPO / "bench" / "results" / "build.json", help="JSON written here")
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    results: list[dict] = []
    if not args.skip_demo:
        bench_demo(results)
    if args.peer:
        bench_py3dtiles(args.peer, results)
    for size in (int(s) for s in args.sizes.split(",") if s):
        bench_generated(size, results)
    if args.wide:
        # The streaming/bytes trade-off: wider content tiles carry less fixed JSON per building.
        bench_generated(args.wide, results, max_tile_side=4000.0)
    meta = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version()}
    out = args.results
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    for row in results:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
