"""The terrain layer of a build: manifest table, buildings on the ground, tilesets that share blobs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import box

from twin.context.terrain import HeightGrid
from twin.context.terrain_layer import (
    TerrainSpec,
    building_grounds,
    flatten_sites,
    lift,
    load_terrain,
    mesh_terrain,
    on_the_ground,
    prepare_terrain,
    site_base,
    write_terrain,
)
from twin.crs import Frame, transformer
from twin.errors import ManifestError
from twin.records import Building, Surface
from twin.validate import validate_tileset_json

FIXTURES = Path(__file__).parent.parent / "fixtures" / "terrain"
CRS = "EPSG:25832"
_X, _Y = transformer("EPSG:4326", CRS).transform(11.077, 49.454)
BUILDINGS_BOUNDS = (_X - 600.0, _Y - 600.0, _X + 600.0, _Y + 600.0)


def _spec(**extra: object) -> TerrainSpec:
    return TerrainSpec.from_dict({"dem": "nuernberg_srtm3_crop.tif", **extra}, FIXTURES)


def test_manifest_table_is_checked() -> None:
    spec = _spec(max_error=0.5, margin=300, tile_cells=16)
    assert (spec.datum, spec.max_error, spec.margin, spec.tile_cells, spec.step) == ("normal", 0.5, 300.0, 16, None)
    for bad, match in [
        ({}, "'dem'"),
        ({"dem": "missing.tif"}, "does not exist"),
        ({"dem": "nuernberg_srtm3_crop.tif", "datum": "DHHN"}, "datum"),
        ({"dem": "nuernberg_srtm3_crop.tif", "max_error": -1}, "max_error"),
        ({"dem": "nuernberg_srtm3_crop.tif", "max_error": "big"}, "could not convert"),
        ({"dem": "nuernberg_srtm3_crop.tif", "colour": "green"}, "unknown keys"),
    ]:
        with pytest.raises(ManifestError, match=match):
            TerrainSpec.from_dict(bad, FIXTURES)
    with pytest.raises(ManifestError, match="table"):
        TerrainSpec.from_dict("dem.tif", FIXTURES)


def test_terrain_is_in_working_z() -> None:
    # SRTM heights are normal heights: with z0 = ground + undulation, working z is height above that ground.
    spec = _spec(margin=200)
    normal = load_terrain(spec, CRS, BUILDINGS_BOUNDS, z0_height=47.8 + 300.0, geoid_undulation=47.8)
    as_is = load_terrain(spec, CRS, BUILDINGS_BOUNDS, z0_height=47.8, geoid_undulation=47.8)
    assert np.allclose(normal.grid.heights, as_is.grid.heights - 300.0)
    minx, _, _, maxy = normal.grid.bounds
    assert minx <= BUILDINGS_BOUNDS[0] - 200 and maxy >= BUILDINGS_BOUNDS[3] + 200
    assert normal.info["dem"] == "nuernberg_srtm3_crop.tif" and normal.info["filled_share"] == 0.0


def _slope() -> HeightGrid:
    _, cc = np.meshgrid(np.arange(41), np.arange(41), indexing="ij")
    return HeightGrid(0.1 * cc * 5.0, 0.0, 200.0, 5.0, CRS)  # rises 0.1 m per metre eastwards


def test_buildings_stand_on_their_lowest_ground_and_parts_with_them() -> None:
    grid = _slope()
    house = Building("way/1", "osm", CRS, footprint=box(50, 100, 70, 110), height=9.0)
    part = Building("way/2", "osm", CRS, footprint=box(65, 100, 70, 105), height=12.0, parent="way/1")
    lod2 = Building(
        "gml/3", "gml", CRS, footprint=box(100, 100, 110, 110), surfaces=(Surface(np.zeros((3, 3)), kind="wall"),)
    )
    orphan = Building("way/4", "osm", CRS, footprint=box(120, 100, 130, 110), parent="way/99")
    ground = building_grounds(grid, [house, part, lod2, orphan])
    assert ground == pytest.approx([5.0, 5.0, 0.0, 12.0])  # west walls touch the ground, east ones reach below
    assert np.all(building_grounds(None, [house, lod2]) == 0.0)


def test_variant_terrain_shares_every_tile_the_site_does_not_touch(tmp_path: Path) -> None:
    spec = _spec(margin=300, tile_cells=8)
    terrain = load_terrain(spec, CRS, BUILDINGS_BOUNDS, z0_height=47.8 + 300.0, geoid_undulation=47.8)
    frame = Frame.from_bounds(CRS, BUILDINGS_BOUNDS, height=47.8 + 300.0)
    blobs = tmp_path / "blobs"
    root, _ = mesh_terrain(terrain.grid, spec)
    info, city = write_terrain(root, "SRTM3", frame, tmp_path / "terrain", blobs)
    doc = json.loads((tmp_path / "terrain" / "tileset.json").read_text())
    assert validate_tileset_json(doc) == []
    assert doc["root"]["content"]["uri"].startswith("../blobs/")
    assert info["tiles"] == len(city) and info["levels"] >= 3 and info["leaf_error_m"] <= 1.0
    site = box(_X - 40, _Y - 30, _X + 40, _Y + 30)
    flat = flatten_sites(terrain.grid, [(site, 10.0)], spec.site_blend)
    flat_root, _ = mesh_terrain(flat, spec)
    _, variant = write_terrain(flat_root, "SRTM3", frame, tmp_path / "variants" / "v" / "terrain", blobs)
    changed = variant - city
    assert 0 < len(changed) < len(variant) / 2  # the root and the tiles around the site, nothing else
    assert (tmp_path / "variants" / "v" / "terrain" / "tileset.json").exists()


def test_city_terrain_lifts_meshes_and_levels_sites(tmp_path: Path) -> None:
    spec = _spec(margin=300, tile_cells=8)
    house = Building("way/1", "osm", CRS, footprint=box(_X, _Y, _X + 15, _Y + 10), height=9.0)
    shed = Building("way/2", "osm", CRS, footprint=box(_X + 200, _Y, _X + 204, _Y + 3), height=3.0)
    terrain = prepare_terrain(spec, CRS, [house, shed], z0_height=47.8 + 300.0, geoid_undulation=47.8)
    placed = on_the_ground(terrain, [house, shed])
    grounds = [b.properties["ground"] for b in placed]
    assert grounds == pytest.approx(building_grounds(terrain.surface, [house, shed]), abs=1e-3)
    assert placed[0].height == 9.0  # the record keeps heights above its ground
    positions = np.array([[_X, _Y, 0.0], [_X + 200, _Y, 3.0]])
    lifted = lift(positions, np.array([0, 1]), placed)
    assert lifted[:, 2] == pytest.approx([grounds[0], 3.0 + grounds[1]])
    assert on_the_ground(None, [house])[0] is house
    site = box(_X - 20, _Y - 20, _X + 30, _Y + 30)
    base = site_base(terrain, site)
    assert base <= terrain.surface.sample(np.array([_X]), np.array([_Y]))[0]
