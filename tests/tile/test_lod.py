"""Coarse parents: merged blocks for the wide tiles, REPLACE refinement, errors that shrink downwards."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import shapely

from twin.build import build_scene
from twin.scene import scene_for_file
from twin.tile import block_buildings, build_quadtree, coarse_parents
from twin.tile.lod import CELLS, merge_cells
from twin.validate import validate_glb_extensions, validate_tileset_json


def _city(n: int = 6000, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Footprint bounds (n, 4) of 10-25 m blocks on a 40 m grid over about 3 km, and their heights."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    centre = np.column_stack([i % side, i // side]) * 40.0 + 20.0 + rng.uniform(-3, 3, (n, 2))
    half = rng.uniform(5, 12.5, (n, 2))
    heights = rng.uniform(6, 40, n)
    return np.column_stack([centre - half, centre + half]), heights


def _tree(extents: np.ndarray, heights: np.ndarray, max_side: float = 500.0):  # type: ignore[no-untyped-def]
    centroids = (extents[:, :2] + extents[:, 2:]) / 2.0
    area = np.prod(extents[:, 2:] - extents[:, :2], axis=1)
    weights = np.full(len(extents), 20.0)
    return build_quadtree(centroids, area * heights, np.sqrt(area), weights, max_content_side=max_side)


def test_merge_cells_keeps_mass_and_cells() -> None:
    extents = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [150, 150, 160, 170]], float)
    heights = np.array([10.0, 20.0, 30.0])
    areas = np.array([100.0, 100.0, 200.0])
    blocks = merge_cells((0, 0, 200, 200), extents, areas, heights, np.zeros(3), cells=2)
    assert len(blocks) == 2  # the two near ones share the south-west cell
    order = np.argsort(blocks.heights)
    assert np.allclose(blocks.heights[order], [15.0, 30.0])  # area-weighted mean height
    assert np.allclose(blocks.areas[order], [200.0, 200.0])
    box = blocks.boxes[order[0]]
    # The extent (0..30 × 0..10) shrunk about its centre to the 200 m² it stands for.
    assert np.isclose((box[2] - box[0]) * (box[3] - box[1]), 200.0) and np.allclose(blocks.centroids[order[0]], [15, 5])
    assert blocks.error >= 5.0  # the 10 m height spread, the filled gap


def test_coarse_parents_are_the_empty_inner_tiles() -> None:
    extents, heights = _city()
    tree = _tree(extents, heights)
    blocks = coarse_parents(tree, extents, heights, np.zeros(len(heights)))
    assert blocks
    for node in tree.walk():
        coarse = node.children and not len(node.members)
        assert (node.key in blocks) == bool(coarse)
        assert node.refine == ("REPLACE" if coarse else "ADD")
    # Every building still stored once, at full detail, in the ADD tiles below.
    members = np.concatenate([n.members for n in tree.walk()])
    assert len(members) == len(np.unique(members)) == len(heights)


def test_parents_coarser_children_finer() -> None:
    extents, heights = _city()
    tree = _tree(extents, heights)
    blocks = coarse_parents(tree, extents, heights, np.zeros(len(heights)))

    def stands_for(node) -> int:  # type: ignore[no-untyped-def]
        # What a viewer draws for this tile's area if it stops here: its blocks, or its buildings.
        if node.key in blocks:
            return len(blocks[node.key])
        return sum(len(n.members) for n in node.walk())

    for node in tree.walk():
        if node.key not in blocks:
            continue
        assert len(blocks[node.key]) <= CELLS * CELLS
        assert stands_for(node) < sum(stands_for(c) for c in node.children)  # fewer, larger pieces
        for child in node.children:
            assert child.geometric_error <= node.geometric_error  # children finer
        assert node.geometric_error > 0
        # The blocks stay inside the tile and keep the footprint area of its buildings.
        b = blocks[node.key]
        minx, miny, maxx, maxy = node.bounds
        assert (b.boxes[:, 0] >= minx - 1e-6).all() and (b.boxes[:, 2] <= maxx + 1e-6).all()
        assert (b.boxes[:, 1] >= miny - 1e-6).all() and (b.boxes[:, 3] <= maxy + 1e-6).all()
        idx = np.concatenate([n.members for n in node.walk()])
        area = np.prod(extents[idx, 2:] - extents[idx, :2], axis=1).sum()
        assert np.isclose(b.areas.sum(), area)
    assert tree.geometric_error >= max(c.geometric_error for c in tree.children)


def test_block_buildings_are_flat_boxes() -> None:
    extents, heights = _city(400)
    tree = _tree(extents, heights, max_side=200.0)
    blocks = coarse_parents(tree, extents, heights, np.full(len(heights), 5.0))
    key, b = next(iter(blocks.items()))
    records = block_buildings(key, b, "EPSG:25832")
    assert len(records) == len(b) and records[0].id == f"coarse/{key}/0" and records[0].source == "coarse"
    assert records[0].footprint is not None and shapely.is_ccw(records[0].footprint.exterior)
    assert records[0].roof.shape == "flat" and records[0].properties["ground"] == 5.0


def test_build_with_coarse_parents_is_valid(tmp_path: Path) -> None:
    # The Hamburg cut with 100 m content tiles: the wider tiles get coarse blocks.
    source = Path(__file__).parents[1] / "fixtures" / "osm" / "hamburg_eimsbuettel_cut.geojson"
    scene = replace(scene_for_file(source), max_tile_side=100.0)
    result = build_scene(scene, tmp_path, jobs=1, incremental=False)
    ts = json.loads((tmp_path / "tileset.json").read_text())
    assert validate_tileset_json(ts) == []
    replaced: list[dict] = []

    def walk(tile: dict, parent_error: float) -> None:
        assert tile["geometricError"] <= parent_error
        if tile.get("refine") == "REPLACE":
            replaced.append(tile)
            assert tile["children"] and "content" in tile  # a stand-in, replaced by what is below it
        if not tile.get("children"):
            assert tile["geometricError"] == 0 and tile.get("refine", "ADD") == "ADD"
        for child in tile.get("children", []):
            walk(child, tile["geometricError"])

    walk(ts["root"], ts["geometricError"])
    assert replaced and result.report.info["coarse_tiles"] == len(replaced)
    for tile in replaced:
        glb = (tmp_path / tile["content"]["uri"]).read_bytes()
        assert validate_glb_extensions(glb) == []
    # The blocks are stand-ins: they are not counted as buildings written.
    assert result.report.counts["written"] == result.scene_info["buildings"]
