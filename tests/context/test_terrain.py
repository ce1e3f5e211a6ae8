"""Terrain meshing on real SRTM heights: error bound, no cracks, normals, exact placement, ground sampling."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from twin.context.dem import read_dem
from twin.context.terrain import (
    HeightGrid,
    TerrainTile,
    flatten_site,
    footprint_ground,
    ground_height,
    mesh_pyramid,
    surface_grid,
)
from twin.context.terrain_tiles import encode_terrain_tile, terrain_tileset
from twin.crs import Frame, geodetic_to_ecef, transformer
from twin.encode.glb import from_gltf_axes, read_glb, read_primitive, read_property_table
from twin.validate import validate_glb_extensions, validate_tileset_json

CROP = Path(__file__).parent.parent / "fixtures" / "terrain" / "nuernberg_srtm3_crop.tif"
CRS = "EPSG:25832"
_X, _Y = transformer("EPSG:4326", CRS).transform(11.077, 49.454)
#: 3 km around Nürnberg's old town (SRTM3, 280–451 m).
BOUNDS = (_X - 1500.0, _Y - 1500.0, _X + 1500.0, _Y + 1500.0)


@pytest.fixture(scope="module")
def grid() -> HeightGrid:
    return read_dem(CROP, CRS, BOUNDS).grid


@pytest.fixture(scope="module")
def pyramid(grid: HeightGrid) -> TerrainTile:
    # 8 cells per tile puts three levels under the root of the 50-cell grid: neighbours meet across levels.
    return mesh_pyramid(grid, max_error=0.5, tile_cells=8)


def _surface_height(tile: TerrainTile, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The tile's surface at points (NaN outside it), found triangle by triangle (brute force, for tests)."""
    p = tile.positions
    surface = tile.indices[np.all(tile.indices < tile.surface_vertices, axis=1)]
    out = np.full(len(x), np.nan)
    for a, b, c in p[surface]:
        det = (b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])
        u = ((x - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (y - a[1])) / det
        v = ((b[0] - a[0]) * (y - a[1]) - (x - a[0]) * (b[1] - a[1])) / det
        inside = (u >= -1e-7) & (v >= -1e-7) & (u + v <= 1 + 1e-7)
        out[inside] = (a[2] + u * (b[2] - a[2]) + v * (c[2] - a[2]))[inside]
    return out


def test_error_bound_holds_at_every_post(grid: HeightGrid, pyramid: TerrainTile) -> None:
    tiles = pyramid.walk()
    levels = max(t.level for t in tiles)
    # 50 cells: 7 x 7 leaves of 8 cells (the last row and column clipped to the data), 4 x 4, 2 x 2, 1.
    assert levels == 3 and len(tiles) == 1 + 4 + 16 + 49
    for tile in tiles:
        minx, miny, maxx, maxy = tile.bounds
        r = np.arange(round((grid.y0 - maxy) / grid.step), round((grid.y0 - miny) / grid.step) + 1)
        c = np.arange(round((minx - grid.x0) / grid.step), round((maxx - grid.x0) / grid.step) + 1)
        rr, cc = (a.ravel() for a in np.meshgrid(r, c, indexing="ij"))
        x, y = grid.post_xy(rr, cc)
        deviation = np.abs(_surface_height(tile, x, y) - grid.heights[rr, cc])
        assert np.isfinite(deviation).all(), tile.key  # the surface covers its whole window
        # The measured error is the real one against every post, and the leaves keep the bound.
        assert deviation.max() == pytest.approx(tile.error, abs=1e-6), tile.key
        if tile.level == levels:
            assert tile.error <= 0.5 + 1e-6
    # Coarser levels simplify more: fewer triangles per area.
    per_level = {lv: sum(len(t.indices) for t in tiles if t.level == lv) for lv in range(levels + 1)}
    assert per_level[0] < per_level[1] < per_level[2] < per_level[3]


def _shared_edge(a: TerrainTile, b: TerrainTile) -> tuple[np.ndarray, np.ndarray] | None:
    """Points along the border two tiles share (their boxes touch along a segment), or None."""
    ax0, ay0, ax1, ay1 = a.bounds
    bx0, by0, bx1, by1 = b.bounds
    t = np.linspace(0.0, 1.0, 200)
    for xa, xb in ((ax1, bx0), (ax0, bx1)):
        lo, hi = max(ay0, by0), min(ay1, by1)
        if abs(xa - xb) < 1e-6 and hi - lo > 1.0:
            return np.full(200, xa), lo + (hi - lo) * t
    for ya, yb in ((ay1, by0), (ay0, by1)):
        lo, hi = max(ax0, bx0), min(ax1, bx1)
        if abs(ya - yb) < 1e-6 and hi - lo > 1.0:
            return lo + (hi - lo) * t, np.full(200, ya)
    return None


def test_no_cracks_between_neighbours_of_any_level(pyramid: TerrainTile) -> None:
    tiles = pyramid.walk()
    pairs = 0
    for a, b in itertools.combinations(tiles, 2):
        edge = _shared_edge(a, b)
        if edge is None:
            continue
        pairs += 1
        za, zb = _surface_height(a, *edge), _surface_height(b, *edge)
        assert np.isfinite(za).all() and np.isfinite(zb).all()
        # Whichever side is higher hangs its skirt over the gap: the larger skirt always reaches.
        assert np.abs(za - zb).max() <= max(a.skirt, b.skirt), (a.key, b.key)
        if a.level == b.level:
            assert np.abs(za - zb).max() <= a.error + b.error + 1e-6
    assert pairs > 100  # same-level and cross-level neighbours alike


def test_skirts_hang_under_every_border_edge(pyramid: TerrainTile) -> None:
    for tile in pyramid.walk():
        top, hanging = tile.positions[: tile.surface_vertices], tile.positions[tile.surface_vertices :]
        assert len(hanging) > 0
        above = [top[np.all(top[:, :2] == h[:2], axis=1)][0, 2] for h in hanging]
        assert np.allclose(hanging[:, 2] + tile.skirt, above)
        minx, miny, maxx, maxy = tile.bounds
        on_border = np.isclose(hanging[:, 0], minx) | np.isclose(hanging[:, 0], maxx)
        on_border |= np.isclose(hanging[:, 1], miny) | np.isclose(hanging[:, 1], maxy)
        assert on_border.all()


def test_normals_and_winding_on_a_plane() -> None:
    n = 33
    rr, cc = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    x, y = cc * 10.0, -rr * 10.0
    plane = HeightGrid(100.0 + 0.1 * x + 0.05 * y, 0.0, 0.0, 10.0, CRS)
    root = mesh_pyramid(plane, max_error=0.01, tile_cells=32)
    assert root.children == () and root.error < 1e-9
    assert len(root.indices[np.all(root.indices < root.surface_vertices, axis=1)]) == 2  # a plane is two triangles
    expected = np.array([-0.1, -0.05, 1.0]) / np.linalg.norm([-0.1, -0.05, 1.0])
    assert np.allclose(root.normals, expected)
    a, b, c = (root.positions[root.indices[:, i]] for i in range(3))
    face = np.cross(b - a, c - a)
    surface = np.all(root.indices < root.surface_vertices, axis=1)
    assert (face[surface] @ expected > 0).all()  # counter-clockwise from above
    # Skirt walls face outwards (away from the tile centre).
    centre = root.positions[: root.surface_vertices].mean(axis=0)
    mid = (a + b + c)[~surface] / 3.0
    assert (np.einsum("ij,ij->i", face[~surface][:, :2], (mid - centre)[:, :2]) > 0).all()


def test_real_grid_normals_are_unit_and_up(grid: HeightGrid) -> None:
    x, y = grid.post_xy(np.arange(0, 60), np.arange(0, 60))
    n = grid.normals(x, y)
    assert np.allclose(np.linalg.norm(n, axis=1), 1.0) and (n[:, 2] > 0.8).all()


def test_tiles_are_placed_exactly_and_validate(grid: HeightGrid, pyramid: TerrainTile, gltf_validator) -> None:  # type: ignore[no-untyped-def]
    frame = Frame.from_bounds(CRS, BOUNDS, height=47.8)
    contents = {t.key: encode_terrain_tile(t, frame, "SRTM3") for t in pyramid.walk()}
    leaf = pyramid.children[0].children[0].children[0]
    gltf, binary = read_glb(contents[leaf.key].glb)
    prim = read_primitive(gltf, binary, gltf["meshes"][0]["primitives"][0])
    local = from_gltf_axes(prim["POSITION"].astype(np.float64) + np.array(gltf["nodes"][0]["translation"]))
    ecef = local @ frame.matrix[:3, :3].T + frame.matrix[:3, 3]
    lonlat = frame.to_lonlat(leaf.positions)
    truth = geodetic_to_ecef(lonlat[:, 0], lonlat[:, 1], leaf.positions[:, 2] + frame.height)
    nearest = np.sqrt(((ecef[:, None, :] - truth[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    assert nearest.max() < 0.01  # Draco's 1 cm steps, nothing lost to the frame
    assert read_property_table(gltf, binary)["source"] == ["SRTM3"]
    assert validate_glb_extensions(contents[leaf.key].glb) == []
    reports = gltf_validator([c.glb for c in list(contents.values())[:6]])
    assert all(r["numErrors"] == 0 for r in reports), [r["messages"][:3] for r in reports]
    tileset = terrain_tileset(pyramid, contents, {k: f"blobs/{i}.glb" for i, k in enumerate(contents)}, frame).to_dict()
    assert validate_tileset_json(tileset) == []
    root = tileset["root"]
    assert root["refine"] == "REPLACE" and len(root["transform"]) == 16
    assert root["geometricError"] == pytest.approx(round(pyramid.error, 3))
    assert tileset["geometricError"] > root["geometricError"] > root["children"][0]["geometricError"]


def test_ground_under_footprints(grid: HeightGrid) -> None:
    cx, cy = (BOUNDS[0] + BOUNDS[2]) / 2, (BOUNDS[1] + BOUNDS[3]) / 2
    small = box(cx, cy, cx + 12, cy + 9)
    large = Polygon([(cx - 300, cy - 200), (cx + 250, cy - 260), (cx + 310, cy + 240), (cx - 280, cy + 180)])
    got = footprint_ground(grid, [small, large])
    for (lo, hi), poly in zip(got, [small, large], strict=True):
        # Dense sampling inside the polygon never finds ground lower or higher than the sampled range.
        minx, miny, maxx, maxy = poly.bounds
        xs, ys = np.meshgrid(np.linspace(minx, maxx, 150), np.linspace(miny, maxy, 150))
        inside = shapely.contains_xy(poly, xs.ravel(), ys.ravel())
        dense = grid.sample(xs.ravel()[inside], ys.ravel()[inside])
        assert lo <= dense.min() + 1e-9 and hi >= dense.max() - 1e-9
        assert dense.min() - lo < 0.5 and hi - dense.max() < 0.5
    assert got[1, 1] - got[1, 0] > 5.0  # a large footprint on a slope spans metres
    assert ground_height(grid, np.array([cx]), np.array([cy]))[0] == pytest.approx(grid.sample(cx, cy))


def test_without_terrain_ground_is_flat() -> None:
    assert np.all(ground_height(None, np.arange(3.0), np.arange(3.0)) == 0.0)
    assert np.all(footprint_ground(None, [box(0, 0, 1, 1)]) == 0.0)


def test_flattened_site_is_level_and_blends(grid: HeightGrid) -> None:
    cx, cy = (BOUNDS[0] + BOUNDS[2]) / 2, (BOUNDS[1] + BOUNDS[3]) / 2
    site = box(cx - 100, cy - 80, cx + 100, cy + 80)
    z = float(footprint_ground(grid, [site])[0, 0])
    flat = flatten_site(grid, site, z, blend=60.0)
    rr, cc = np.meshgrid(np.arange(grid.shape[0]), np.arange(grid.shape[1]), indexing="ij")
    x, y = grid.post_xy(rr.ravel(), cc.ravel())
    d = shapely.distance(site, shapely.points(x, y)).reshape(grid.shape)
    assert np.all(flat.heights[d == 0] == z)
    assert np.array_equal(flat.heights[d >= 60.0], grid.heights[d >= 60.0])
    ring = (d > 0) & (d < 60.0)
    assert ring.any()
    lo, hi = np.minimum(grid.heights, z), np.maximum(grid.heights, z)
    assert np.all((flat.heights[ring] >= lo[ring] - 1e-9) & (flat.heights[ring] <= hi[ring] + 1e-9))
    assert grid.heights[d == 0].std() > 0.1  # the site really was sloped


def test_buildings_sample_the_ground_the_finest_tiles_show(grid: HeightGrid, pyramid: TerrainTile) -> None:
    surface = surface_grid(pyramid, grid)
    leaves = [t for t in pyramid.walk() if not t.children]
    rng = np.random.default_rng(3)
    for tile in leaves[::7]:
        minx, miny, maxx, maxy = tile.bounds
        x, y = rng.uniform(minx, maxx, 40), rng.uniform(miny, maxy, 40)
        # Inside a triangle the surface is a plane: bilinear between the sampled posts is close to it.
        assert np.abs(surface.sample(x, y) - _surface_height(tile, x, y)).max() < 0.5
        cx, cy = grid.post_xy(
            np.array([round((grid.y0 - y[0]) / grid.step)]), np.array([round((x[0] - grid.x0) / grid.step)])
        )
        assert surface.sample(cx, cy) == pytest.approx(_surface_height(tile, cx, cy), abs=1e-6)
    assert np.abs(surface.heights - grid.heights).max() <= 0.5 + 1e-6
    # A footprint's lowest ground on that surface: no corner of its walls floats above the rendered ground.
    cx, cy = (BOUNDS[0] + BOUNDS[2]) / 2, (BOUNDS[1] + BOUNDS[3]) / 2
    poly = Polygon([(cx, cy), (cx + 140, cy + 20), (cx + 90, cy + 110)])
    lo = footprint_ground(surface, [poly])[0, 0]
    xs, ys = np.meshgrid(np.linspace(cx, cx + 140, 200), np.linspace(cy, cy + 110, 200))
    inside = shapely.contains_xy(poly, xs.ravel(), ys.ravel())
    dense = surface.sample(xs.ravel()[inside], ys.ravel()[inside])
    assert lo <= dense.min() + 1e-9 and dense.min() - lo < 0.05


def test_a_site_smaller_than_a_cell_is_level_in_the_finest_tiles(grid: HeightGrid) -> None:
    from twin.context.terrain import site_detail

    cx, cy = (BOUNDS[0] + BOUNDS[2]) / 2 + 13.0, (BOUNDS[1] + BOUNDS[3]) / 2 - 7.0
    site = box(cx, cy, cx + 20, cy + 12)  # a plot, a third of a 60 m cell
    z = float(footprint_ground(grid, [site])[0, 0])
    flat = flatten_site(grid, site, z, blend=20.0)
    root = mesh_pyramid(flat, max_error=0.5, tile_cells=8, detail=site_detail(grid, [(site, z)], 20.0))
    leaves = [t for t in root.walk() if not t.children and shapely.intersects(site, box(*t.bounds))]
    assert leaves and all(t.surface_vertices > 100 for t in leaves)  # meshed from the finer posts
    rng = np.random.default_rng(5)
    x, y = rng.uniform(cx, cx + 20, 200), rng.uniform(cy, cy + 12, 200)
    heights = np.nanmax([_surface_height(t, x, y) for t in leaves], axis=0)
    assert np.abs(heights - z).max() <= 0.05 + 1e-6  # the tiles' bound: every cell the site touches is level
    # 40 m away the slope is the DEM's again (within the finest tiles' error bound).
    far_x, far_y = np.full(20, cx + 60.0), np.linspace(cy - 10, cy + 20, 20)
    far = np.nanmax([_surface_height(t, far_x, far_y) for t in root.walk() if not t.children], axis=0)
    assert np.abs(far - grid.sample(far_x, far_y)).max() <= 0.5 + 1e-6
