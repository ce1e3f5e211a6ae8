"""Source limits (twin/read/limits.py): decompression bombs stop naming the file, streaming; time per file."""

from __future__ import annotations

import gzip
import shutil
import tracemalloc
from pathlib import Path

import pytest

from twin.errors import BuildError, ManifestError
from twin.read.citygml import read_citygml
from twin.read.limits import ENV, MIN_INFLATED_BYTES, SourceLimits, SourceTimeout, SourceTooLarge
from twin.read.registry import read_source, sniff_format
from twin.records import ReaderOptions
from twin.report import Report
from twin.scene import load_scene

FIXTURES = Path(__file__).parent.parent / "fixtures"
FUZZ = FIXTURES / "fuzz"


def scene_source(tmp_path: Path, source: Path, defaults: str = "") -> object:
    """The first source of a one-source manifest over a copy of ``source`` (its limits as a build reads them)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, tmp_path / source.name)
    (tmp_path / "scene.toml").write_text(
        f'id = "limits"\ncrs = "EPSG:25832"\n[defaults]\n{defaults}\n[[sources]]\npath = "{source.name}"\n'
    )
    return load_scene(tmp_path).sources[0]


def test_an_osm_bz2_bomb_stops_naming_the_file_without_inflating_it(tmp_path: Path) -> None:
    source = scene_source(tmp_path, FUZZ / "bomb.osm.bz2")  # 125 bytes that inflate to 33 MiB
    tracemalloc.start()
    try:
        with pytest.raises(SourceTooLarge, match=r"bomb\.osm\.bz2: inflates to more than 33,554,432 bytes") as info:
            list(read_source(source, Report()))  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "max_inflate_ratio" in str(info.value) and ENV["max_inflated_bytes"] in str(info.value)
    assert peak < 8 * 2**20  # streamed in chunks: never the 32 MiB it was allowed, let alone all of it


def test_a_gml_gz_bomb_stops_in_the_citygml_reader() -> None:
    with pytest.raises(SourceTooLarge, match=r"bomb\.gml\.gz: inflates to more than"):
        list(read_citygml(FUZZ / "bomb.gml.gz", options=ReaderOptions(), report=Report()))


def test_a_gzipped_citygml_file_reads_like_the_plain_one(tmp_path: Path) -> None:
    plain = FIXTURES / "citygml" / "nrw_LoD2_32_364_5650_subset.gml"
    packed = tmp_path / "packed" / "nrw.gml.gz"
    packed.parent.mkdir()
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert sniff_format(packed) == "citygml"
    source = scene_source(tmp_path, packed)
    got = list(read_source(source, Report()))  # type: ignore[arg-type]
    want = list(read_citygml(plain, options=ReaderOptions(), report=Report()))
    assert len(got) == len(want) > 0
    assert [(b.id, b.footprint.wkt if b.footprint else None) for b in got] == [
        (b.id, b.footprint.wkt if b.footprint else None) for b in want
    ]


def test_limits_come_from_the_manifest_then_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = FIXTURES / "osm" / "berlin_siegessaeule.osm.gz"  # 190 kB inflating to 1.8 MB: within the defaults
    assert len(list(read_source(scene_source(tmp_path / "a", real, ""), Report()))) > 0  # type: ignore[arg-type]
    monkeypatch.setenv(ENV["max_inflated_bytes"], "1000000")
    with pytest.raises(SourceTooLarge, match=r"berlin_siegessaeule\.osm\.gz: inflates to more than 1,000,000"):
        list(read_source(scene_source(tmp_path / "b", real, ""), Report()))  # type: ignore[arg-type]
    # the manifest's [defaults] wins over the environment
    source = scene_source(tmp_path / "c", real, "max_inflated_bytes = 4_000_000")
    assert len(list(read_source(source, Report()))) > 0  # type: ignore[arg-type]


def test_time_per_source_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gml = FIXTURES / "citygml" / "berlin_mitte_subset.gml"
    source = scene_source(tmp_path / "a", gml, "source_seconds = 1e-6")
    with pytest.raises(SourceTimeout, match=r"berlin_mitte_subset\.gml: reading took longer than 1e-06 s") as info:
        list(read_source(source, Report()))  # type: ignore[arg-type]
    assert isinstance(info.value, BuildError) and "source_seconds" in str(info.value)
    monkeypatch.setenv(ENV["source_seconds"], "1e-6")
    with pytest.raises(SourceTimeout, match=ENV["source_seconds"]):
        list(read_source(scene_source(tmp_path / "b", gml), Report()))  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ['"soon"', "0", "-5", "nan"])
def test_a_bad_limit_is_a_manifest_error(tmp_path: Path, value: str) -> None:
    with pytest.raises(ManifestError, match="source_seconds"):
        scene_source(tmp_path, FIXTURES / "citygml" / "berlin_mitte_subset.gml", f"source_seconds = {value}")


def test_small_files_may_always_inflate_to_the_floor() -> None:
    limits = SourceLimits(max_inflate_ratio=10, max_inflated_bytes=2**40)
    assert limits.inflated_limit(1000) == MIN_INFLATED_BYTES
    assert limits.inflated_limit(10 * 2**20) == 100 * 2**20
    assert SourceLimits(max_inflated_bytes=2**20).inflated_limit(10 * 2**20) == 2**20
