"""The whole pipeline on small real fixtures of every format: valid, complete, atomic output."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from twin import content as content_module
from twin.build import build_scene
from twin.errors import BuildError, ManifestError
from twin.scene import load_scene, scene_for_file
from twin.validate import validate_glb_extensions, validate_tileset_json

FIXTURES = Path(__file__).parent / "fixtures"
SOURCES = {
    "osm-geojson": FIXTURES / "osm" / "hamburg_eimsbuettel_cut.geojson",
    "osm-xml": FIXTURES / "osm" / "berlin_siegessaeule.osm.gz",
    "osm-pbf": FIXTURES / "osm" / "helsinki_cathedral.osm.pbf",
    "citygml-1": FIXTURES / "citygml" / "nrw_LoD2_32_364_5650_subset.gml",
    "citygml-2": FIXTURES / "citygml" / "berlin_mitte_subset.gml",
    "citygml-3": FIXTURES / "citygml" / "sig3d_building_and_garage_LOD2_citygml3.gml",
    "gpkg": FIXTURES / "osm" / "hamburg_footprints.gpkg",
}


def tile_uris(tileset: dict) -> list[str]:
    """Every content URI in a tileset."""
    out = []

    def walk(tile: dict) -> None:
        if "content" in tile:
            out.append(tile["content"]["uri"])
        for child in tile.get("children", []):
            walk(child)

    walk(tileset["root"])
    return out


def check_build(out: Path, gltf_validator) -> dict:  # type: ignore[no-untyped-def]
    """Schema-valid tilesets, every referenced blob present and valid; returns the root tileset."""
    tilesets = sorted(out.rglob("tileset.json"))
    assert tilesets
    glbs = {}
    for path in tilesets:
        ts = json.loads(path.read_text())
        assert validate_tileset_json(ts) == []
        for uri in tile_uris(ts):
            blob = (path.parent / uri).resolve()
            assert blob.exists(), f"{path} names missing {uri}"
            glbs[blob] = blob.read_bytes()
    for data in glbs.values():
        assert validate_glb_extensions(data) == []
    for report in gltf_validator(list(glbs.values())):
        assert report["numErrors"] == 0, report["messages"]
    return json.loads((out / "tileset.json").read_text())


@pytest.mark.parametrize("name", list(SOURCES))
def test_build_each_format(name: str, tmp_path: Path, gltf_validator) -> None:  # type: ignore[no-untyped-def]
    scene = scene_for_file(SOURCES[name])
    result = build_scene(scene, tmp_path, jobs=1)
    root = check_build(tmp_path, gltf_validator)
    counts = result.report.counts
    assert counts["written"] > 0 and counts["written"] <= counts["read"]
    info = json.loads((tmp_path / "scene.json").read_text())
    assert info["tileset"] == "tileset.json" and info["crs"].startswith("EPSG:")
    west, south, east, north = info["bounds"]
    assert west < east and south < north
    # The root transform puts the scene on the globe near its bounds.
    assert west - 0.01 <= info["origin"]["lon"] <= east + 0.01
    assert len(root["root"]["transform"]) == 16
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["tiles"] >= 1 and report["bytes"] > 0


def test_known_building_in_footprints(tmp_path: Path) -> None:
    build_scene(scene_for_file(SOURCES["osm-geojson"]), tmp_path, jobs=1)
    fc = json.loads((tmp_path / "buildings.geojson").read_text())
    by_id = {f["id"]: f for f in fc["features"]}
    haus = by_id["relation/3602122"]["properties"]
    assert haus["name"] == "Hamburg-Haus Eimsbüttel" and haus["levels"] == 3
    assert "Doormannsweg 12" in haus["address"]


def test_parallel_build_equals_serial(tmp_path: Path) -> None:
    scene = replace(scene_for_file(SOURCES["osm-geojson"]), tile_budget=1500)
    build_scene(scene, tmp_path / "one", jobs=1, incremental=False)
    build_scene(scene, tmp_path / "two", jobs=2, incremental=False)
    one = sorted(p.name for p in (tmp_path / "one" / "blobs").iterdir())
    two = sorted(p.name for p in (tmp_path / "two" / "blobs").iterdir())
    assert len(one) > 1 and one == two  # same bytes, same content-addressed names


def test_tiles_follow_a_budget(tmp_path: Path) -> None:
    scene = replace(scene_for_file(SOURCES["osm-geojson"]), tile_budget=1500)
    build_scene(scene, tmp_path, jobs=1)
    ts = json.loads((tmp_path / "tileset.json").read_text())
    city = ts["root"]["children"][0]
    # Wider than 1 km: the city's top tile is a coarse stand-in (REPLACE, twin/tile/lod.py) over ADD tiles.
    assert city["refine"] == "REPLACE" and city["geometricError"] > 0 and city["children"]
    leaves = []

    def walk(t: dict) -> None:
        if not t.get("children"):
            leaves.append(t)
        for c in t.get("children", []):
            assert c["geometricError"] <= t["geometricError"]
            walk(c)

    walk(city)
    assert all(leaf["geometricError"] == 0 for leaf in leaves)


def test_crash_mid_build_keeps_previous_tileset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scene = replace(scene_for_file(SOURCES["osm-geojson"]), tile_budget=1500)
    build_scene(scene, tmp_path, jobs=1, incremental=False)
    before = (tmp_path / "tileset.json").read_bytes()
    calls = {"n": 0}
    real = content_module.encode_glb

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("simulated crash")
        return real(*args, **kwargs)

    monkeypatch.setattr(content_module, "encode_glb", failing)
    changed = replace(scene, z0_height=10.0)  # different output: new blobs would be needed
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_scene(changed, tmp_path, jobs=1, incremental=False)
    assert (tmp_path / "tileset.json").read_bytes() == before
    for uri in tile_uris(json.loads(before)):
        assert (tmp_path / uri).exists()
    assert not list(tmp_path.rglob("*.tmp"))


def test_broken_building_does_not_stop_the_build(tmp_path: Path) -> None:
    src = tmp_path / "broken.geojson"
    features = [
        {
            "type": "Feature",
            "id": "way/1",
            "properties": {"building": "yes", "building:levels": "2"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[9.95, 53.57], [9.9502, 53.57], [9.9502, 53.5702], [9.95, 53.5702], [9.95, 53.57]]],
            },
        },
        {
            "type": "Feature",
            "id": "way/2",
            "properties": {"building": "yes"},
            "geometry": {"type": "Polygon", "coordinates": [[[9.951, 53.57], [9.951, 53.57], [9.951, 53.57]]]},
        },
        {
            "type": "Feature",
            "id": "way/3",
            "properties": {"building": "yes", "height": "tall"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[9.952, 53.57], [9.9522, 53.5702], [9.9522, 53.57], [9.952, 53.5702], [9.952, 53.57]]],
            },
        },
    ]
    src.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    result = build_scene(scene_for_file(src), tmp_path / "out", jobs=1)
    r = result.report
    assert r.counts["written"] == 2  # the bow-tie is repaired, the degenerate one skipped
    assert sum(r.skipped.values()) == 1 and r.repaired["invalid polygon made valid"] == 1
    assert r.counts["default_height"] == 1 and r.repaired["bad height tag"] == 1


def test_no_buildings_is_a_clear_error(tmp_path: Path) -> None:
    src = tmp_path / "empty.geojson"
    src.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(BuildError, match="no usable buildings"):
        build_scene(scene_for_file(src), tmp_path / "out", jobs=1)
    assert not (tmp_path / "out" / "tileset.json").exists()


def test_incremental_rebuild_reuses_base(tmp_path: Path) -> None:
    scene = scene_for_file(SOURCES["osm-geojson"])
    build_scene(scene, tmp_path, jobs=1)
    first = (tmp_path / "tileset.json").read_text()
    result = build_scene(scene, tmp_path, jobs=1, previous=tmp_path)
    assert result.report.counts["base_reused"] == 1
    again = json.loads((tmp_path / "tileset.json").read_text())
    assert tile_uris(again) == tile_uris(json.loads(first))


def test_manifest_errors_name_the_problem(tmp_path: Path) -> None:
    (tmp_path / "scene.toml").write_text('id = "x"\n[[sources]]\npath = "missing.geojson"\n')
    with pytest.raises(ManifestError, match=r"sources\[0\].*missing.geojson"):
        load_scene(tmp_path)
    (tmp_path / "scene.toml").write_text('id = "Bad Id"\n')
    with pytest.raises(ManifestError, match="lowercase"):
        load_scene(tmp_path)
    (tmp_path / "scene.toml").write_text("id = [")
    with pytest.raises(ManifestError, match=r"scene\.toml"):
        load_scene(tmp_path)


def test_demo_manifest_loads() -> None:
    scene = load_scene(Path(__file__).parents[1] / "scenes" / "hamburg-eimsbuettel")
    assert scene.crs == "EPSG:25832" and scene.attribution == ("© OpenStreetMap contributors",)
    assert scene.sources[0].format == "osm-geojson" and scene.sources[0].path.exists()


def test_incremental_rebuild_into_a_new_folder_adopts_blobs(tmp_path: Path) -> None:
    """The server builds every version into its own folder: the previous one's blobs are linked, not rebuilt."""
    scene = scene_for_file(SOURCES["osm-geojson"])
    build_scene(scene, tmp_path / "v1", jobs=1)
    result = build_scene(scene, tmp_path / "v2", jobs=1, previous=tmp_path / "v1")
    assert result.report.counts["base_reused"] == 1
    v2 = json.loads((tmp_path / "v2" / "tileset.json").read_text())
    for uri in tile_uris(v2):
        assert (tmp_path / "v2" / uri).exists()
    # Removing the earlier build leaves the new one complete.
    import shutil

    shutil.rmtree(tmp_path / "v1")
    for uri in tile_uris(v2):
        assert (tmp_path / "v2" / uri).read_bytes()


def test_output_lands_on_the_globe(tmp_path: Path) -> None:
    """End to end: a building's floor corners in the glb, through the root transform, are at the ECEF
    positions pyproj gives for its OSM corners (within the encoder's quantisation step)."""
    import numpy as np
    import pyproj

    from twin.encode.glb import read_glb, read_primitive, read_property_table

    result = build_scene(scene_for_file(SOURCES["osm-geojson"], z0_height=51.5), tmp_path, jobs=1)
    ts = json.loads((tmp_path / "tileset.json").read_text())
    root = np.array(ts["root"]["transform"]).reshape(4, 4).T
    target = "relation/3602122"
    for uri in tile_uris(ts):
        gltf, binary = read_glb((tmp_path / uri).read_bytes())
        ids = read_property_table(gltf, binary)["id"]
        if target in ids:
            break
    else:
        pytest.fail(f"{target} is in no tile")
    row = ids.index(target)
    node = gltf["nodes"][0]
    corners = []
    for prim in gltf["meshes"][node["mesh"]]["primitives"]:
        arrays = read_primitive(gltf, binary, prim)
        pos, fid = arrays["POSITION"].astype(np.float64), arrays["_FEATURE_ID_0"]
        pos = pos * np.array(node.get("scale", [1, 1, 1])) + np.array(node.get("translation", [0, 0, 0]))
        corners.append(pos[fid == row])
    yup = np.concatenate(corners)
    zup = np.column_stack([yup[:, 0], -yup[:, 2], yup[:, 1]])  # glTF Y-up → 3D Tiles Z-up
    ecef = zup @ root[:3, :3].T + root[:3, 3]
    floor = ecef[np.argsort(np.linalg.norm(ecef, axis=1))[:8]]  # lowest points: the floor ring
    fc = json.loads(SOURCES["osm-geojson"].read_text())
    ring = next(f for f in fc["features"] if f["id"] == target)["geometry"]["coordinates"][0]
    tr = pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    truth = np.array([tr.transform(lon, lat, 51.5) for lon, lat in ring])
    # Every floor vertex sits on a true corner of the outline (Draco's 1 cm steps: within 5 mm per axis).
    dist = np.linalg.norm(floor[:, None, :] - truth[None, :, :], axis=2).min(axis=1)
    assert dist.max() < 0.009, dist
    assert result.report.counts["written"] > 0
