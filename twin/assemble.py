"""Tileset assembly: the tile tree of a quadtree's encoded contents under the scene's root transform."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .content import TileContent
from .crs import Frame
from .encode.tileset import Box, Tile, Tileset
from .tile import TileNode


def assemble(
    node: TileNode,
    contents: dict[str, TileContent],
    uri_prefix: str,
) -> Tile | None:
    """The tile tree for a quadtree node (children first, so boxes enclose all descendants)."""
    children = [t for t in (assemble(c, contents, uri_prefix) for c in node.children) if t is not None]
    content = contents.get(node.key)
    box: Box | None = Box(content.lo, content.hi) if content is not None else None
    for child in children:
        box = child.box if box is None else box.union(child.box)
    if box is None:
        return None
    return Tile(
        box=box,
        geometric_error=node.geometric_error if children else 0.0,
        content_uri=uri_prefix + content.uri if content is not None else None,
        refine=node.refine if children else "ADD",
        children=children,
    )


def wrap_root(city: Tile, extra: Sequence[Tile], frame: Frame) -> Tileset:
    """The tileset: an empty root with the scene's ENU→ECEF transform, over the city and design tiles."""
    box = city.box
    for t in extra:
        box = box.union(t.box)
    diagonal = float(np.linalg.norm(box.hi - box.lo))
    city_error = max(city.geometric_error, max((c.geometric_error for c in city.children), default=0.0))
    # The whole scene is one screen-filling object from far away: its error is its size.
    root_error = max(diagonal / 4.0, city_error * 2.0, 1.0)
    root = Tile(box=box, geometric_error=root_error, refine="ADD", transform=frame.matrix, children=[city, *extra])
    return Tileset(root=root, geometric_error=root_error * 2.0)


def blob_prefix(out: Path, blob_dir: Path) -> str:
    """The relative URI prefix from ``out`` (where tileset.json is) to the blob folder."""
    rel = os.path.relpath(blob_dir.resolve(), out.resolve()).replace(os.sep, "/")
    return "" if rel == "." else rel + "/"
