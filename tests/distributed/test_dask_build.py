"""Distributed builds (twin/distributed/): the same tileset as the process pool, on a local cluster of worker
processes reached by its tcp:// address; partitions reused by a rebuild; a bad partition's error names its file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.distributed.scenes import blobs, mixed_scene, tileset
from twin.build import build_scene
from twin.cli import app
from twin.distributed.pipeline import connect
from twin.distributed.settings import DaskSettings
from twin.errors import BuildError
from twin.scene import load_scene

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A LocalCluster of 2 worker processes started the way ``--scheduler local`` starts one; its tcp:// address."""
    with connect(DaskSettings("local", workers=2), None) as client:
        yield client.scheduler.address


def test_dask_build_is_the_process_pool_build(tmp_path: Path, scheduler: str) -> None:
    scene_dir = mixed_scene(tmp_path / "scene")
    pool = build_scene(load_scene(scene_dir), tmp_path / "pool", jobs=1)
    out = tmp_path / "dask"
    run = CliRunner().invoke(app, ["build", str(scene_dir), "-o", str(out), "--scheduler", scheduler])
    assert run.exit_code == 0, run.output
    report = json.loads((out / "report.json").read_text())
    dask = report["dask"]
    # The GeoPackage was read as several row ranges and the tree tiled as several nodes below a joined top.
    assert dask["workers"] == 2 and dask["partitions"] >= 5 and min(dask["node_levels"]) >= 1 and dask["nodes"] >= 4
    assert tileset(out) == tileset(pool.out)
    assert blobs(out) == blobs(pool.out)
    assert (out / "buildings.geojson").read_bytes() == (pool.out / "buildings.geojson").read_bytes()
    mine, theirs = json.loads((out / "scene.json").read_text()), pool.scene_info
    assert {k: v for k, v in mine.items() if k != "build"} == {k: v for k, v in theirs.items() if k != "build"}
    for key in ("read", "written"):
        assert report["counts"][key] == pool.report.counts[key]
    assert report["skipped"] == dict(pool.report.skipped)  # duplicates across partitions dropped as in one process
    assert report["tiles"] == pool.report.info["tiles"] and report["coarse_tiles"] == pool.report.info["coarse_tiles"]


def test_remote_scheduler_and_rebuild_reuses_every_partition(tmp_path: Path, scheduler: str) -> None:
    scene = load_scene(mixed_scene(tmp_path / "scene"))
    out = tmp_path / "out"
    first = build_scene(scene, out, scheduler=scheduler)
    shown = tileset(out)
    again = build_scene(scene, out, scheduler=scheduler, previous=out)
    dask = again.report.info["dask"]
    assert first.report.info["dask"]["partitions_reused"] == 0
    assert dask["partitions_reused"] == dask["partitions"] and dask["nodes_reused"] == dask["nodes"]
    assert tileset(out) == shown and again.report.counts["written"] == first.report.counts["written"]
    # A rebuild elsewhere from this one's cache brings the blobs along.
    moved = build_scene(scene, tmp_path / "moved", scheduler=scheduler, previous=out)
    assert moved.report.info["dask"]["nodes_reused"] == dask["nodes"]
    assert tileset(tmp_path / "moved") == shown and blobs(tmp_path / "moved") == blobs(out)


def test_bad_partition_names_its_file(tmp_path: Path, scheduler: str) -> None:
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", ')
    scene = load_scene(mixed_scene(tmp_path / "scene", broken))
    with pytest.raises(BuildError, match=r"partition .*broken\.geojson"):
        build_scene(scene, tmp_path / "out", scheduler=scheduler)
    assert not (tmp_path / "out" / "tileset.json").exists()


@pytest.mark.slow
def test_terrain_scene_with_a_design_is_the_process_pool_build(tmp_path: Path, scheduler: str) -> None:
    scene = load_scene(ROOT / "scenes" / "bayreuth")  # OSM, SRTM terrain, a design on the slope
    pool = build_scene(scene, tmp_path / "pool", jobs=1, incremental=False)
    dask = build_scene(scene, tmp_path / "dask", scheduler=scheduler, incremental=False)
    assert dask.report.info["terrain"]["tiles"] == pool.report.info["terrain"]["tiles"]
    for tileset_path in ("tileset.json", "terrain/tileset.json", "variants/house-slope/tileset.json"):
        mine, theirs = (json.loads((b.out / tileset_path).read_text()) for b in (dask, pool))
        for data in (mine, theirs):
            data["asset"].pop("tilesetVersion", None)
        assert mine == theirs, tileset_path
    assert blobs(dask.out) == blobs(pool.out)
    assert (dask.out / "buildings.geojson").read_bytes() == (pool.out / "buildings.geojson").read_bytes()
