"""Roads, paths and rails as ground surfaces: centre lines buffered to their width, draped (no I/O).

Each line is buffered by half its width (flat ends, mitred joins: streets meet at junctions without round
blobs). Within one class the pieces are made disjoint, each line keeping only what earlier lines of the
class do not cover, so the class is the union of its lines while every piece still belongs to one OSM way
(and picking it shows that way's tags). Classes are stacked a few centimetres apart by :data:`CLASS_ORDER`
(areas below everything, then paths, minor roads, major roads, rails on top), so overlapping surfaces never
z-fight: at 1 cm steps in the encoded positions, a 4 cm gap stays a gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from twin.context.drape import Surface, drape_polygons
from twin.context.osmfeatures import PATH_WIDTHS, RAIL_WIDTHS, ROAD_WIDTHS
from twin.context.records import LineFeature
from twin.context.terrain import HeightGrid

#: Drawing classes bottom to top; a class's surfaces lie :data:`LIFT_STEP` above the one before.
CLASS_ORDER = ("path", "cycleway", "service", "minor", "major", "rail")
#: Height of the lowest road class above the ground (areas lie at half of it) and the step between classes (m).
LIFT_BASE, LIFT_STEP = 0.08, 0.04
#: sRGB colours by class.
CLASS_COLORS: dict[str, tuple[int, int, int]] = {
    "path": (196, 186, 168),
    "cycleway": (176, 120, 110),
    "service": (128, 128, 130),
    "minor": (112, 112, 116),
    "major": (92, 92, 98),
    "rail": (120, 104, 92),
}
_MAJOR = {"motorway", "trunk", "primary", "secondary", "motorway_link", "trunk_link", "primary_link", "secondary_link"}
_DEFAULT_WIDTH = {"path": 2.0, "cycleway": 2.0, "rail": 3.0, "tram": 2.6}


def road_class(line: LineFeature) -> str:
    """The drawing class of a line: path, cycleway, service, minor, major or rail."""
    highway = line.tags.get("highway", "").removesuffix("_link")
    if line.kind in ("rail", "tram") or line.tags.get("railway") in RAIL_WIDTHS:
        return "rail"
    if line.kind == "cycleway":
        return "cycleway"
    if line.kind == "path" or highway in PATH_WIDTHS:
        return "path"
    if highway in ("service", "track", "living_street", "pedestrian"):
        return "service"
    return "major" if highway in _MAJOR or f"{highway}_link" in _MAJOR else "minor"


def class_lift(name: str) -> float:
    """Metres above the ground of a drawing class's surfaces."""
    return LIFT_BASE + LIFT_STEP * CLASS_ORDER.index(name)


def line_width(line: LineFeature) -> float:
    """The line's width, else its kind's default (m)."""
    if line.width is not None:
        return line.width
    return ROAD_WIDTHS.get(line.tags.get("highway", ""), _DEFAULT_WIDTH.get(line.kind, 5.0))


@dataclass(frozen=True)
class RoadPieces:
    """Disjoint road polygons: one per kept line, in drawing order.

    lines : the lines kept (each has a piece); polygons : their surfaces; classes : their drawing class
    """

    lines: list[LineFeature]
    polygons: list[BaseGeometry]
    classes: list[str]


def road_pieces(lines: Sequence[LineFeature]) -> RoadPieces:
    """Buffer every line to its width and make the pieces of each class disjoint (tree rows are skipped)."""
    by_class: dict[str, list[LineFeature]] = {name: [] for name in CLASS_ORDER}
    for line in lines:
        if line.kind != "tree_row":
            by_class[road_class(line)].append(line)
    out = RoadPieces([], [], [])
    for name in CLASS_ORDER:
        members = by_class[name]
        if not members:
            continue
        geometries = np.array([m.geometry for m in members], dtype=object)
        widths = np.array([line_width(m) for m in members])
        buffers = shapely.buffer(geometries, widths / 2.0, cap_style="flat", join_style="mitre", mitre_limit=2.0)
        tree = STRtree(buffers)
        for i, (line, polygon) in enumerate(zip(members, buffers, strict=True)):
            # Earlier lines of the class own their overlap with this one.
            earlier = [j for j in tree.query(polygon, predicate="intersects") if j < i]
            piece = shapely.difference(polygon, shapely.union_all(buffers[earlier])) if earlier else polygon
            piece = shapely.make_valid(piece)
            if piece.is_empty or piece.area < 0.01:
                continue
            out.lines.append(line)
            out.polygons.append(piece)
            out.classes.append(name)
    return out


def mesh_roads(pieces: RoadPieces, grid: HeightGrid | None = None) -> Surface:
    """The road pieces as one draped surface (owner: index into ``pieces.lines``)."""
    return drape_polygons(pieces.polygons, [class_lift(c) for c in pieces.classes], grid)


def road_colors(pieces: RoadPieces, owner: np.ndarray) -> np.ndarray:
    """(n, 3) uint8 sRGB vertex colours by each vertex's class."""
    palette = np.array([CLASS_COLORS[c] for c in pieces.classes], dtype=np.uint8).reshape(-1, 3)
    return palette[owner]
