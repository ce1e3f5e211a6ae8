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
    load_terrain,
    mesh_terrain,
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
