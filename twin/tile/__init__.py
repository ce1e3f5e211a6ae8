"""Tiling: partition buildings into a quadtree with a level-of-detail hierarchy (quadtree.py, coarse parents lod.py)."""

from .lod import Blocks, block_buildings, coarse_parents
from .quadtree import TileNode, build_quadtree

__all__ = ["Blocks", "TileNode", "block_buildings", "build_quadtree", "coarse_parents"]
