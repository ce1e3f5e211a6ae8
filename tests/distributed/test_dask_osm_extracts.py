"""OSM files cut into bbox extracts for a Dask build (twin/distributed/osm_extracts.py): the tileset, blobs and
buildings.geojson of the process-pool build, no worker reading the whole file, the extracts gone afterwards and
not cut again for a rebuild."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.distributed.scenes import FIXTURES, blobs, tileset
from twin.build import build_scene
from twin.distributed.osm_extracts import cut, pieces
from twin.distributed.pipeline import SCRATCH
from twin.read.registry import read_source
from twin.report import Report
from twin.scene import SourceSpec, load_scene

pytestmark = pytest.mark.skipif(shutil.which("osmium") is None, reason="needs osmium-tool (make install)")

#: Helsinki: multipolygon relations and building parts in outlines, spread over the file's bounds.
OSM = FIXTURES / "helsinki_cathedral.osm.pbf"


def osm_scene(folder: Path, osm: Path, osm_bytes: int) -> Path:
    """``folder/scene.toml`` over one OSM file, cut into extracts of ``osm_bytes``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scene.toml").write_text(
        f'id = "dask-osm"\n[defaults]\nheight = 9.0\nmax_tile_side = 100.0\ntile_budget = 400\n'
        f"[build]\nosm_bytes = {osm_bytes}\ntask_buildings = 20\n"
        f'[[sources]]\nname = "osm"\npath = "{osm}"\nformat = "osm"\n'
    )
    return folder


def test_osm_extracts_build_the_process_pool_build(tmp_path: Path) -> None:
    scene = load_scene(osm_scene(tmp_path / "scene", OSM, OSM.stat().st_size // 6))
    pool = build_scene(scene, tmp_path / "pool", jobs=1, incremental=False)
    dask = build_scene(scene, tmp_path / "dask", scheduler="local", jobs=2)
    info = dask.report.info["dask"]
    assert info["osm_extracts"] >= 6 and info["partitions"] == info["osm_extracts"] == info["osm_extracts_written"]
    assert info["partitions_with_buildings"] >= 3
    assert tileset(dask.out) == tileset(pool.out)
    assert blobs(dask.out) == blobs(pool.out)
    assert (dask.out / "buildings.geojson").read_bytes() == (pool.out / "buildings.geojson").read_bytes()
    assert dask.report.counts["read"] == pool.report.counts["read"]
    assert dask.report.counts["written"] == pool.report.counts["written"]
    assert not (dask.out / SCRATCH / "osm").exists()  # the extracts are removed once read
    # A rebuild of the unchanged file reuses every extract's read and writes no extract again.
    again = build_scene(scene, tmp_path / "dask", scheduler="local", jobs=2, previous=tmp_path / "dask")
    info = again.report.info["dask"]
    assert info["osm_extracts_written"] == 0 and info["partitions_reused"] == info["partitions"] >= 6
    assert tileset(again.out) == tileset(pool.out) and blobs(again.out) == blobs(pool.out)


def test_no_extract_holds_the_whole_file(tmp_path: Path) -> None:
    assert pieces(OSM, OSM.stat().st_size // 4 + 1) == 4
    extracts = cut(OSM, 4, tmp_path)
    whole = {b.id for b in read_source(SourceSpec("osm", OSM, "osm"), Report())}
    shares = [{b.id for b in read_source(SourceSpec("osm", path, "osm"), Report())} for path, _ in extracts]
    assert len(extracts) == 4
    assert sum(len(s) for s in shares) >= len(whole)
    assert all(0 < len(s) < len(whole) for s in shares)
    assert set().union(*shares) == whole
