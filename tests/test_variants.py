"""Variants: designs placed in the city, buildings cut out, tiles shared with the existing city."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from twin.build import build_scene
from twin.crs import transform_points
from twin.encode.glb import read_glb, read_property_table
from twin.scene import load_scene
from twin.variants import failure_message

from .test_build import check_build, tile_uris

FIXTURES = Path(__file__).parent / "fixtures"
TARGET = "way/78235217"  # 105 m² of apartments in the Hamburg fixture
#: variant id → a design file from tests/fixtures/fuzz/ that no longer reads (see make_fixtures.py there)
BROKEN = {"truncated-ifc": "truncated_wall.ifc", "broken-glb": "broken_buffers.glb"}


@pytest.fixture(scope="module")
def variant_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A scene (Hamburg fixture + the glTF house on TARGET's plot) built once for the module."""
    root = tmp_path_factory.mktemp("variant-scene")
    shutil.copy(FIXTURES / "osm" / "hamburg_eimsbuettel_cut.geojson", root / "city.geojson")
    shutil.copy(FIXTURES / "designs" / "pmndrs_house-5.glb", root / "house.glb")
    for name in BROKEN.values():  # designs that went bad after they were placed
        shutil.copy(FIXTURES / "fuzz" / name, root / name)
    fc = json.loads((root / "city.geojson").read_text())
    target = next(f for f in fc["features"] if f["id"] == TARGET)
    minx, miny, maxx, maxy = shape(target["geometry"]).buffer(0.00003).bounds
    site = [[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy]]
    (root / "scene.toml").write_text(
        f"""
id = "variant-test"
crs = "EPSG:25832"
z0_height = 51.5
attribution = ["© OpenStreetMap contributors"]
[defaults]
tile_budget = 1500
[[sources]]
path = "city.geojson"
[[variants]]
id = "house"
title = "A house"
[[variants.designs]]
file = "house.glb"
id = "house"
anchor = {{ lon = {(minx + maxx) / 2}, lat = {(miny + maxy) / 2}, heading = 0.0 }}
site = {json.dumps(site)}
"""
        + "".join(
            f"""
[[variants]]
id = "{variant}"
title = "Broken {variant}"
[[variants.designs]]
file = "{name}"
id = "d-{variant}"
anchor = {{ lon = {(minx + maxx) / 2}, lat = {(miny + maxy) / 2} }}
"""
            for variant, name in BROKEN.items()
        )
        + """
[[variants]]
id = "cleared"
title = "The plot cleared, no design"
removed = ["way/78235217", "way/not-in-this-city"]

[[variants]]
id = "far-away"
title = "Placed off the globe's far side"
[[variants.designs]]
file = "house.glb"
id = "d-far"
anchor = { lon = -170.0, lat = -40.0 }
"""
    )
    out = root / "out"
    handler, logger = _Lines(), logging.getLogger("twin.variants")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        build_scene(load_scene(root), out, jobs=1, progress=lambda stage, f: PROGRESS.append((stage, f)))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    LOG.extend(handler.lines)
    return root, out


#: What the module's build reported: (stage, fraction) calls and twin.variants' log lines.
PROGRESS: list[tuple[str, float]] = []
LOG: list[str] = []


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_variant_stage_progress_moves_and_the_log_names_what_the_planner_named(
    variant_build: tuple[Path, Path],
) -> None:
    fractions = [f for stage, f in PROGRESS if stage == "variants"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    # Five variants (four of one design each, three of which fail, and one without a design): the stage moves
    # per design, per re-encoded tile of the good variant (between its design, 1/10, and its end, 1/5) and per
    # variant, not only at its ends.
    inside = {round(f, 3) for f in fractions if 0 < f < 1}
    assert {0.1, 0.2, 0.4, 0.6, 0.8} <= inside and any(0.1 < f < 0.2 for f in inside), sorted(inside)
    assert "variant 'A house' (house): 1 design(s)" in LOG
    assert "variant 'A house': placing design 'house' (house.glb)" in LOG
    assert any(line.startswith("variant 'Broken broken-glb' (broken-glb) failed") for line in LOG), LOG


def test_variant_output_is_valid(variant_build: tuple[Path, Path], gltf_validator) -> None:  # type: ignore[no-untyped-def]
    _, out = variant_build
    check_build(out, gltf_validator)  # both tilesets, every blob (the design's too)
    assert (out / "variants" / "house" / "tileset.json").exists()


def test_a_bad_design_fails_only_its_variant(variant_build: tuple[Path, Path]) -> None:
    _, out = variant_build
    scene = json.loads((out / "scene.json").read_text())
    assert [v["id"] for v in scene["variants"]] == ["house", "cleared"]  # the city and the good variants are built
    failed = {f["id"]: f for f in json.loads((out / "report.json").read_text())["variants_failed"]}
    assert set(failed) == {*BROKEN, "far-away"}
    assert scene["variants_failed"] == list(failed.values())
    for variant, name in BROKEN.items():
        assert failed[variant]["design"] == f"d-{variant}" and failed[variant]["file"] == name
        assert failed[variant]["title"] == f"Broken {variant}" and failed[variant]["error"]
        assert not (out / "variants" / variant).exists()
    assert failed["broken-glb"]["error"].startswith("unreadable glTF")
    far = failed["far-away"]
    assert far["file"] == "house.glb" and "km" in far["error"], far
    assert "variant 'Broken broken-glb' (broken-glb) failed: design 'd-broken-glb', file broken_buffers.glb: " in (
        failure_message(failed["broken-glb"])
    )


def test_cut_out_removes_exactly_the_buildings_mostly_inside(variant_build: tuple[Path, Path]) -> None:
    root, out = variant_build
    info = json.loads((out / "scene.json").read_text())["variants"][0]
    # Independently: every building whose footprint lies at least half inside the site.
    toml_site = np.array(json.loads((root / "scene.toml").read_text().split("site = ")[1].splitlines()[0]))
    site = shapely.Polygon(transform_points(toml_site, "EPSG:4326", "EPSG:25832"))
    expected = []
    for f in json.loads((root / "city.geojson").read_text())["features"]:
        if "building" not in f["properties"] and "building:part" not in f["properties"]:
            continue
        ring = np.asarray(shapely.get_coordinates(shape(f["geometry"])))
        fp = shapely.Polygon(transform_points(ring, "EPSG:4326", "EPSG:25832"))
        if fp.is_valid and fp.intersection(site).area >= 0.5 * fp.area:
            expected.append(f["id"])
    assert TARGET in expected
    assert info["removed"] == sorted(expected)
    assert info["metrics_delta"]["removed"]["count"] == len(expected)


def test_untouched_tiles_are_shared_not_copied(variant_build: tuple[Path, Path]) -> None:
    _, out = variant_build
    city = tile_uris(json.loads((out / "tileset.json").read_text()))
    variant = [
        u.removeprefix("../../") for u in tile_uris(json.loads((out / "variants/house/tileset.json").read_text()))
    ]
    info = json.loads((out / "scene.json").read_text())["variants"][0]
    shared = set(city) & set(variant)
    assert info["tiles_changed"] >= 1
    assert len(shared) == len(city) - info["tiles_changed"]
    new = set(variant) - set(city)
    assert len(new) == info["tiles_changed"] + 1  # the re-encoded tile(s) and the design's tile
    # The blob folder holds each tile once: the city's, the changed ones and the design (and its preview).
    glbs = {p.name for p in (out / "blobs").glob("*.glb")}
    context = {u for layer in ("roads", "areas", "trees") for u in _layer_uris(out, layer)}  # street context
    assert glbs == {Path(u).name for u in set(city) | set(variant) | context}


def _layer_uris(out: Path, layer: str) -> list[str]:
    path = out / layer / "tileset.json"
    return tile_uris(json.loads(path.read_text())) if path.exists() else []


def test_removed_building_left_its_tile(variant_build: tuple[Path, Path]) -> None:
    _, out = variant_build
    city = tile_uris(json.loads((out / "tileset.json").read_text()))
    variant = {
        u.removeprefix("../../") for u in tile_uris(json.loads((out / "variants/house/tileset.json").read_text()))
    }

    def ids(uri: str) -> list[str]:
        gltf, binary = read_glb((out / uri).read_bytes())
        return read_property_table(gltf, binary)["id"]

    in_city = [u for u in city if TARGET in ids(u)]
    assert len(in_city) == 1
    assert in_city[0] not in variant
    assert all(TARGET not in ids(u) for u in variant if "house" not in u and u in variant - set(city) and ids(u))


def test_a_variant_removes_the_buildings_it_names_without_a_design(variant_build: tuple[Path, Path]) -> None:
    _, out = variant_build
    entry = next(v for v in json.loads((out / "scene.json").read_text())["variants"] if v["id"] == "cleared")
    assert entry["removed"] == [TARGET]
    assert entry["removed_unknown"] == ["way/not-in-this-city"]
    assert entry["designs"] == []
    tileset = json.loads((out / "variants/cleared/tileset.json").read_text())
    uris = [u.removeprefix("../../") for u in tile_uris(tileset)]
    ids = [i for u in uris for i in read_property_table(*read_glb((out / u).read_bytes()))["id"]]
    assert TARGET not in ids and len(ids) > 100
    report = json.loads((out / "report.json").read_text())
    assert report["skipped"]["building to remove not in the scene"] == 1


def test_design_metrics_preview_and_placement_report(variant_build: tuple[Path, Path]) -> None:
    _, out = variant_build
    design = json.loads((out / "scene.json").read_text())["variants"][0]["designs"][0]
    assert design["metrics"]["height"] == pytest.approx(9.0, abs=0.1)
    assert design["placement"]["route"] == "anchor"
    if design["preview"] is not None:  # rendering needs OpenGL (installed by `make`)
        png = (out / design["preview"]).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_moving_a_design_rebuilds_only_what_it_touches(variant_build: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = variant_build
    scene_dir = tmp_path / "scene"
    shutil.copytree(root, scene_dir, ignore=shutil.ignore_patterns("out"))
    build_scene(load_scene(scene_dir), tmp_path / "v1", jobs=1)
    toml = (scene_dir / "scene.toml").read_text()
    lon = float(toml.split("lon = ")[1].split(",")[0])
    (scene_dir / "scene.toml").write_text(toml.replace(f"lon = {lon}", f"lon = {lon + 0.00002}"))
    result = build_scene(load_scene(scene_dir), tmp_path / "v2", jobs=1, previous=tmp_path / "v1")
    counts = result.report.counts
    assert counts["base_reused"] == 1 and counts["designs_placed"] == 1
    # The site is given explicitly, so the same building goes: its re-encoded tile is reused too.
    assert counts["variant_tiles_encoded"] == 0
