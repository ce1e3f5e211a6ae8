"""The ADD quadtree: every building exactly once, budgets kept, big buildings high, errors meaningful."""

from __future__ import annotations

import numpy as np
import pytest

from twin.tile import build_quadtree


def _tree(n: int = 5000, budget: float = 20_000, seed: int = 1):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    centroids = rng.uniform(0, 4000, (n, 2))
    importance = rng.lognormal(5, 1.5, n)
    sizes = np.sqrt(importance)
    weights = rng.integers(12, 60, n).astype(float)
    return build_quadtree(centroids, importance, sizes, weights, budget=budget), centroids, importance, sizes, weights


def test_every_building_once() -> None:
    tree, *_ = _tree()
    members = np.concatenate([n.members for n in tree.walk()])
    assert len(members) == 5000 and len(np.unique(members)) == 5000


def test_budget_kept() -> None:
    tree, _, _, _, weights = _tree()
    for node in tree.walk():
        assert weights[node.members].sum() <= 20_000


def test_important_buildings_go_up() -> None:
    tree, _, importance, _, _ = _tree()
    for node in tree.walk():
        for child in node.children:
            if len(node.members) and len(child.members):
                # Everything a child holds is less important than anything its parent kept.
                assert importance[child.members].max() <= importance[node.members].min()


def test_geometric_error_is_largest_missing_building() -> None:
    tree, _, _, sizes, _ = _tree()
    for node in tree.walk():
        if not node.children:
            assert node.geometric_error == 0.0
            continue
        below = np.concatenate([d.members for c in node.children for d in c.walk()])
        if len(node.members):
            assert node.geometric_error == sizes[below].max()
        else:  # a tile too wide for content: not refining it shows nothing of its area
            side = node.bounds[2] - node.bounds[0]
            assert node.geometric_error == pytest.approx(max(side, sizes[below].max()))
        assert all(c.geometric_error <= node.geometric_error for c in node.children)


def test_children_split_by_quadrant() -> None:
    tree, centroids, *_ = _tree()
    for node in tree.walk():
        for child in node.children:
            minx, miny, maxx, maxy = child.bounds
            pts = np.concatenate([d.members for d in child.walk()])
            assert np.all((centroids[pts, 0] >= minx) & (centroids[pts, 0] <= maxx))
            assert np.all((centroids[pts, 1] >= miny) & (centroids[pts, 1] <= maxy))


def test_small_input_is_one_leaf() -> None:
    tree = build_quadtree(np.array([[0.0, 0.0]]), np.array([1.0]), np.array([1.0]), np.array([12.0]))
    assert tree.children == [] and list(tree.members) == [0] and tree.geometric_error == 0.0


def test_no_content_in_tiles_too_wide_for_centimetre_quantisation() -> None:
    from twin.tile.quadtree import MAX_CONTENT_SIDE

    tree, *_ = _tree()
    with_content = [n for n in tree.walk() if len(n.members)]
    assert with_content
    for node in with_content:
        assert node.bounds[2] - node.bounds[0] <= MAX_CONTENT_SIDE
    assert len(tree.members) == 0 and tree.geometric_error >= 4000


def test_a_building_heavier_than_the_budget_is_a_tile_of_its_own() -> None:
    # Two buildings 400 m apart in tiles of at most 100 m: each ends alone in a small tile, one of them heavier
    # than the whole budget (a large OSM outline with many parts). It was a crash of the whole build
    # ("zero-size array to reduction operation maximum"): nothing was left for the tile's children.
    centroids = np.array([[0.0, 0.0], [400.0, 400.0]])
    tree = build_quadtree(
        centroids, np.array([2.0, 1.0]), np.array([30.0, 5.0]), np.array([900.0, 10.0]), 400, max_content_side=100
    )
    leaves = [n for n in tree.walk() if len(n.members)]
    assert sorted(int(i) for n in leaves for i in n.members) == [0, 1]
    heavy = next(n for n in leaves if 0 in n.members)
    assert list(heavy.members) == [0] and heavy.children == []
