"""Tiling: partition buildings into a quadtree with a level-of-detail hierarchy (see quadtree.py)."""

from .quadtree import TileNode, build_quadtree

__all__ = ["TileNode", "build_quadtree"]
