"""Every crash the fuzzing found, as a regression test with its input (tests/fixtures/fuzz/, see make_fixtures.py).

Each input ran into an exception that is not a TwinError (a 500 where the server reads it), a recursion
without bound or a walk exponential in the file's size; now it is read, or refused naming the file.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from twin.designs import check_design
from twin.errors import DesignError, SourceError, StoreError
from twin.validate import validate_glb_extensions

from . import seeds
from .harness import run_isolated
from .readers import read_all
from .serverenv import Env
from .test_fuzz_designs import join_glb
from .test_fuzz_sensors import ingest

FUZZ = seeds.FUZZ
#: Seconds a regression input may take (each took forever, or blew the stack, before its fix).
QUICK = 10.0


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("citygml_deep_surfaces.gml", "citygml"),  # RecursionError in _collect_polygons
        ("citygml_xlink_fanout.gml", "citygml"),  # 2^40 xlink paths: ran for ever
    ],
)
def test_citygml_reads_hostile_surfaces(name: str, fmt: str) -> None:
    outcome = run_isolated(lambda: read_all(fmt)(FUZZ / name), time_limit=QUICK)
    assert outcome.kind == "ok", outcome


def test_citygml_long_xlink_chain(tmp_path: Path) -> None:
    # 1,500 xlink hops: one recursion per hop before (RecursionError); committed gzipped.
    path = tmp_path / "chain.gml"
    path.write_bytes(gzip.decompress((FUZZ / "citygml_xlink_chain.gml.gz").read_bytes()))
    assert read_all("citygml")(path) == 1


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("deep_nesting.geojson", "footprints"),  # RecursionError from json
        ("deep_nesting_osm_export.geojson", "osm-geojson"),  # RecursionError from json
        ("huge_integer.geojson", "footprints"),  # ValueError (int of > 4,300 digits), not a JSONDecodeError
        ("osm_bad_coordinate.osm", "osm"),  # osmium.InvalidLocationError (not a RuntimeError)
    ],
)
def test_unreadable_sources_are_named(name: str, fmt: str) -> None:
    with pytest.raises(SourceError, match=name.replace(".", r"\.")):
        read_all(fmt)(FUZZ / name)


def test_decompression_bombs_are_named() -> None:
    # 34 kB of .gml.gz and 125 bytes of .osm.bz2, 33 MiB each inflated: the limits of twin/read/limits.py stop
    # them as they stream (the CityGML reader inflates itself; osmium's files are checked by read_source first).
    from twin.read.limits import SourceLimits, SourceTooLarge, check_inflation

    with pytest.raises(SourceTooLarge, match=r"bomb\.gml\.gz"):
        read_all("citygml")(FUZZ / "bomb.gml.gz")
    with pytest.raises(SourceTooLarge, match=r"bomb\.osm\.bz2"):
        check_inflation(FUZZ / "bomb.osm.bz2", SourceLimits())


@pytest.mark.parametrize("fmt", ["footprints", "osm-geojson"])
def test_unknown_geometry_type_is_skipped(fmt: str) -> None:
    # {"type": ""} made shapely raise GeometryTypeError (a ShapelyError, not a GEOSException).
    assert read_all(fmt)(FUZZ / "geometry_type_empty.geojson") == 0


def test_sensors_position_of_objects_is_reported() -> None:
    # LineString coordinates that are objects: KeyError: 0 out of the ingest.
    result: Any = ingest(FUZZ / "sensors_point_objects.json")
    assert result.stations == [] and result.error is None
    assert "missing position" in json.dumps(result.report.to_dict())


def test_sensors_datastreams_not_a_list() -> None:
    # "Datastreams": 3 and "Things": 5 gave TypeError ('int' object is not iterable); now they hold nothing.
    result: Any = ingest(FUZZ / "sensors_datastreams_not_a_list.json")
    assert result.stations == [] and result.error is None


@pytest.mark.parametrize(("fmt", "count"), [("footprints", 1), ("osm-geojson", 0)])
def test_properties_that_are_not_an_object(fmt: str, count: int) -> None:
    # "properties": [1, 2] gave AttributeError ('list' object has no attribute 'get'); now it is no properties.
    assert read_all(fmt)(FUZZ / "properties_not_an_object.geojson") == count


def _deep_glb(tmp_path: Path) -> Path:
    path = tmp_path / "deep_nesting.glb"
    path.write_bytes(join_glb((FUZZ / "deep_nesting.gltf").read_bytes(), b""))
    return path


def test_deeply_nested_gltf_is_a_design_error(tmp_path: Path) -> None:
    # The known case: RecursionError in twin.designs.base.gltf_json, a 500 from the upload.
    for path in (FUZZ / "deep_nesting.gltf", _deep_glb(tmp_path)):
        with pytest.raises(DesignError, match=rf"{path.name}: unreadable glTF JSON: nested too deeply"):
            check_design(path, self_contained=True, max_declared=2**30)


def test_deeply_nested_sensors_page_is_reported() -> None:
    result: Any = ingest(FUZZ / "deep_nesting_sensors_page.json")
    assert result.stations == [] and result.error is None
    assert "unreadable page" in json.dumps(result.report.to_dict())


def test_hostile_uploads_are_422_and_leave_nothing(env: Env, tmp_path: Path) -> None:
    url = "/api/planner/scenes/demo/uploads"
    corpus = {
        "deep_nesting.gltf": (FUZZ / "deep_nesting.gltf").read_bytes(),
        "deep_nesting.glb": _deep_glb(tmp_path).read_bytes(),
        "truncated_draco.glb": seeds.read("fuzz/seeds/boxes_draco.glb")[:-700],
        "draco_garbage.glb": join_glb(*_garbled_draco()),
    }
    for name, body in corpus.items():
        r = env.client.post(url, params={"filename": name}, content=body, headers=env.planner)
        assert r.status_code == 422, (name, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert name in r.json()["detail"], r.json()
    data = env.settings.data_dir
    for folder in ("uploads", "tmp"):
        assert not any((data / folder).glob("*")) if (data / folder).exists() else True
    assert env.client.get(url, headers=env.planner).json() == []


def _garbled_draco() -> tuple[bytes, bytes]:
    """The Draco seed's JSON with its binary chunk (the Draco stream) overwritten by a pattern."""
    glb = seeds.read("fuzz/seeds/boxes_draco.glb")
    json_len = int.from_bytes(glb[12:16], "little")
    text = glb[20 : 20 + json_len]
    binary_len = int.from_bytes(glb[20 + json_len : 24 + json_len], "little")
    return text, bytes(range(256)) * (binary_len // 256 + 1)


@pytest.mark.parametrize("chunk", [b'{"asset": "\x9e"}', b"\x00not json", b"[1, 2]"])
def test_glb_json_chunk_that_is_not_json(chunk: bytes) -> None:
    # UnicodeDecodeError / JSONDecodeError out of twin.encode.read_glb (twin validate); now a StoreError.
    with pytest.raises(StoreError, match="JSON chunk"):
        validate_glb_extensions(join_glb(chunk, b""))
