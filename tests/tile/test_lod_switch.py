"""TWIN_COARSE_PARENTS=0 (for measuring what the stand-ins cost) leaves the wide tiles empty, ADD, untouched."""

from __future__ import annotations

import numpy as np
import pytest

from twin.tile import TileNode, build_quadtree, coarse_parents
from twin.tile.lod import SWITCH


def _tree(n: int = 3000) -> tuple[TileNode, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    side = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    centre = np.column_stack([i % side, i // side]) * 40.0 + 20.0
    half = rng.uniform(5, 12.5, (n, 2))
    extents = np.column_stack([centre - half, centre + half])
    area = np.prod(extents[:, 2:] - extents[:, :2], axis=1)
    heights = rng.uniform(6, 40, n)
    tree = build_quadtree(centre, area * heights, np.sqrt(area), np.full(n, 20.0), max_content_side=500.0)
    return tree, extents, heights


@pytest.mark.parametrize("value", ["0", " 0 "])
def test_the_switch_turns_coarse_parents_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    tree, extents, heights = _tree()
    errors = {n.key: n.geometric_error for n in tree.walk()}
    monkeypatch.setenv(SWITCH, value)
    assert coarse_parents(tree, extents, heights, np.zeros(len(heights))) == {}
    assert all(n.refine == "ADD" and n.geometric_error == errors[n.key] for n in tree.walk())
    monkeypatch.setenv(SWITCH, "1")  # anything else leaves them on
    made = coarse_parents(tree, extents, heights, np.zeros(len(heights)))
    assert made and all(tree_node.refine == "REPLACE" for tree_node in tree.walk() if tree_node.key in made)
