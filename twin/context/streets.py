"""Roads, paths and rails as ground surfaces: centre lines buffered to their width, draped (no I/O).

Each line is buffered by half its width (flat ends, mitred joins: streets meet at junctions without round
blobs). Within one class the pieces are made disjoint, each line keeping only what earlier lines of the
class do not cover, so the class is the union of its lines while every piece still belongs to one OSM way
(and picking it shows that way's tags). Classes are stacked a few centimetres apart by :data:`CLASS_ORDER`
(areas below everything, then paths, sidewalks, minor roads, major roads, rails on top), so overlapping
surfaces never z-fight: at 1 cm steps in the encoded positions, a 4 cm gap stays a gap.

Sidewalks (:func:`twin.context.osmfeatures.sidewalks`: tagged, or typical for streets among buildings) are
strips of their own colour beside the carriageway, cut back where any carriageway lies (junctions stay
street). Bridges are not draped: each is a deck of :data:`DECK_THICKNESS` with sides, its top running from the
ground at one end to the ground at the other, arched by up to :data:`CLEARANCE` per ``layer`` and never below
the ground, above every ground class. Tunnels are not drawn (the classifier leaves them out).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from twin.context.drape import Surface, drape_polygons, polygons_of, triangulate
from twin.context.osmfeatures import PATH_WIDTHS, RAIL_WIDTHS, ROAD_WIDTHS, is_bridge, layer, sidewalks
from twin.context.records import LineFeature
from twin.context.terrain import HeightGrid, ground_height

#: Drawing classes bottom to top; a class's surfaces lie :data:`LIFT_STEP` above the one before.
CLASS_ORDER = ("path", "sidewalk", "cycleway", "service", "minor", "major", "rail")
#: A street gets its typical sidewalks only within this many metres of a building (built-up areas).
BUILT_UP = 50.0
#: Bridge decks: slab thickness, arch height per layer at most (m), vertices along the deck every DECK_STEP m.
DECK_THICKNESS, CLEARANCE, DECK_STEP = 0.6, 4.5, 5.0
#: Height of the lowest road class above the ground (areas lie at half of it) and the step between classes (m).
LIFT_BASE, LIFT_STEP = 0.08, 0.04
#: sRGB colours by class.
CLASS_COLORS: dict[str, tuple[int, int, int]] = {
    "path": (196, 186, 168),
    "sidewalk": (178, 176, 170),
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
    """Disjoint road polygons: one per kept line (and per sidewalk side), in drawing order.

    lines : the line of each piece (a sidewalk's is its road's); polygons : their surfaces; classes : their
    drawing class (``sidewalk`` for sidewalks); widths : metres across (the road's, or the sidewalk's);
    bridges : whether the piece is a bridge deck (not draped)
    """

    lines: list[LineFeature]
    polygons: list[BaseGeometry]
    classes: list[str]
    widths: list[float] = field(default_factory=list)
    bridges: list[bool] = field(default_factory=list)

    def subset(self, members: Sequence[int]) -> RoadPieces:
        """The pieces at ``members``, in that order."""
        pick = lambda values: [values[i] for i in members]  # noqa: E731
        return RoadPieces(*(pick(v) for v in (self.lines, self.polygons, self.classes, self.widths, self.bridges)))


def _disjoint(polygons: Sequence[BaseGeometry] | np.ndarray) -> list[BaseGeometry | None]:
    """Each polygon less what earlier ones cover (None where nothing worth drawing is left)."""
    array = np.array(polygons, dtype=object)
    tree = STRtree(array)
    out: list[BaseGeometry | None] = []
    for i, polygon in enumerate(array):
        # Earlier lines of the class own their overlap with this one.
        earlier = [j for j in tree.query(polygon, predicate="intersects") if j < i]
        piece = shapely.difference(polygon, shapely.union_all(array[earlier])) if earlier else polygon
        piece = shapely.make_valid(piece)
        out.append(None if piece.is_empty or piece.area < 0.01 else piece)
    return out


def _buffers(members: Sequence[LineFeature], extra: Sequence[float] | None = None) -> np.ndarray:
    geometries = np.array([m.geometry for m in members], dtype=object)
    widths = np.array([line_width(m) for m in members]) + (np.asarray(extra) if extra is not None else 0.0)
    return shapely.buffer(geometries, widths / 2.0, cap_style="flat", join_style="mitre", mitre_limit=2.0)


def sidewalk_strips(line: LineFeature) -> list[tuple[BaseGeometry, float]]:
    """The (strip, width) of each side of a road with a sidewalk: left first, then right."""
    half = line_width(line) / 2.0
    out = []
    for side, width in zip((1.0, -1.0), sidewalks(line.tags), strict=True):
        if width <= 0:
            continue
        centre = shapely.offset_curve(line.geometry, side * (half + width / 2.0), join_style="mitre", mitre_limit=2.0)
        strip = shapely.buffer(centre, width / 2.0, cap_style="flat", join_style="mitre", mitre_limit=2.0)
        if not strip.is_empty:
            out.append((strip, width))
    return out


def road_pieces(lines: Sequence[LineFeature], built: BaseGeometry | None = None) -> RoadPieces:
    """Buffer every line to its width and make the pieces of each class disjoint (tree rows are skipped).

    built : the buildings; a street without sidewalk tags has its typical sidewalks only within
        :data:`BUILT_UP` metres of one (None: everywhere)
    """
    by_class: dict[str, list[LineFeature]] = {name: [] for name in CLASS_ORDER}
    decks: list[LineFeature] = []
    for line in lines:
        if line.kind == "tree_row":
            continue
        if is_bridge(line.tags):
            decks.append(line)
        else:
            by_class[road_class(line)].append(line)
    buffers = {name: _buffers(members) for name, members in by_class.items() if members}
    # Sidewalks are cut back wherever a carriageway (a street, a cycleway, a track) lies.
    carriageways = [b for name in CLASS_ORDER[2:] for b in buffers.get(name, [])]
    # (line, piece, class, width, bridge), grouped by class in drawing order, the decks last.
    rows: list[tuple[LineFeature, BaseGeometry | None, str, float, bool]] = []
    for name in CLASS_ORDER:
        if name == "sidewalk":
            streets = [line for c in ("service", "minor", "major") for line in by_class[c]]
            strips = _sidewalks(streets, carriageways, built)
            pieces = _disjoint([strip for _, strip, _ in strips]) if strips else []
            rows += [(line, piece, name, width, False) for (line, _, width), piece in zip(strips, pieces, strict=True)]
        elif name in buffers:
            members = by_class[name]
            pieces = _disjoint(buffers[name])
            rows += [(m, piece, name, line_width(m), False) for m, piece in zip(members, pieces, strict=True)]
    if decks:
        # A deck carries its sidewalks too: it is as wide as the road and them.
        extra = [sum(sidewalks(d.tags)) for d in decks]
        pieces = _disjoint(_buffers(decks, extra))
        rows += [(d, p, road_class(d), line_width(d) + e, True) for d, p, e in zip(decks, pieces, extra, strict=True)]
    kept = [r for r in rows if r[1] is not None]
    return RoadPieces(*(list(column) for column in zip(*kept, strict=True))) if kept else RoadPieces([], [], [], [], [])


def _sidewalks(
    roads: Sequence[LineFeature], carriageways: Sequence[BaseGeometry], built: BaseGeometry | None
) -> list[tuple[LineFeature, BaseGeometry, float]]:
    """(road, strip, width) of every sidewalk, cut back where a carriageway lies."""
    if built is not None:
        shapely.prepare(built)
    tree = STRtree(np.array(carriageways, dtype=object)) if carriageways else None
    out = []
    for line in roads:
        tagged = any(k.startswith("sidewalk") for k in line.tags)
        if not tagged and built is not None and not shapely.dwithin(built, line.geometry, BUILT_UP):
            continue
        for strip, width in sidewalk_strips(line):
            if tree is not None:
                near = tree.query(strip, predicate="intersects")
                if len(near):
                    strip = shapely.difference(strip, shapely.union_all(np.array(carriageways, dtype=object)[near]))
            strip = shapely.make_valid(strip)
            if not strip.is_empty and strip.area >= 0.01:
                out.append((line, strip, width))
    return out


def deck_heights(line: LineFeature, x: np.ndarray, y: np.ndarray, grid: HeightGrid | None, lift: float) -> np.ndarray:
    """The top of a bridge deck at points (x, y): (n,) float64 working z.

    From the ground at the line's start to the ground at its end, arched (a sine over the length) by the
    lower of :data:`CLEARANCE` × layer and a tenth of the length, and never less than ``lift`` above the ground.
    """
    geometry = line.geometry
    length = max(float(geometry.length), 1e-6)
    ends = shapely.get_coordinates(shapely.get_parts(geometry))[[0, -1]]
    g0, g1 = ground_height(grid, ends[:, 0], ends[:, 1])
    along = np.clip(shapely.line_locate_point(geometry, shapely.points(x, y)), 0.0, length) / length
    rise = min(CLEARANCE * max(layer(line.tags), 1), length / 10.0)
    z = g0 + (g1 - g0) * along + rise * np.sin(np.pi * along) + lift
    return np.maximum(z, ground_height(grid, x, y) + lift)


def mesh_deck(polygon: BaseGeometry, line: LineFeature, grid: HeightGrid | None, lift: float) -> Surface:
    """A bridge deck: its top at :func:`deck_heights`, an underside :data:`DECK_THICKNESS` below, and sides."""
    positions, normals, indices = [], [], []
    count = 0
    for part in polygons_of(polygon):
        part = shapely.geometry.polygon.orient(shapely.segmentize(part, DECK_STEP), 1.0)
        xy, tri = triangulate(part)
        if not len(tri):
            continue
        z = deck_heights(line, xy[:, 0], xy[:, 1], grid, lift)
        top = np.column_stack([xy, z])
        bottom = top - [0.0, 0.0, DECK_THICKNESS]
        up = np.tile([0.0, 0.0, 1.0], (len(xy), 1))
        positions += [top, bottom]
        normals += [up, -up]
        indices += [tri + count, tri[:, ::-1] + count + len(xy)]
        count += 2 * len(xy)
        for ring in [part.exterior, *part.interiors]:
            c = np.asarray(ring.coords)[:, :2]
            a, b = c[:-1], c[1:]
            za = deck_heights(line, a[:, 0], a[:, 1], grid, lift)
            zb = deck_heights(line, b[:, 0], b[:, 1], grid, lift)
            d = b - a
            outward = np.column_stack([d[:, 1], -d[:, 0], np.zeros(len(d))])
            outward /= np.maximum(np.linalg.norm(outward, axis=1, keepdims=True), 1e-12)
            n = len(a)
            # Per edge: bottom a, bottom b, top b, top a (4 vertices, flat normals).
            quad = np.stack(
                [
                    np.column_stack([a, za - DECK_THICKNESS]),
                    np.column_stack([b, zb - DECK_THICKNESS]),
                    np.column_stack([b, zb]),
                    np.column_stack([a, za]),
                ],
                axis=1,
            ).reshape(-1, 3)
            base = count + 4 * np.arange(n)[:, None]
            faces = np.concatenate([base + np.array([0, 1, 2]), base + np.array([0, 2, 3])])
            positions.append(quad)
            normals.append(np.repeat(outward, 4, axis=0))
            indices.append(faces)
            count += 4 * n
    if not positions:
        empty = np.zeros((0, 3))
        return Surface(empty, empty, np.zeros((0, 3), dtype=np.int64), np.zeros(0, dtype=np.int64))
    pos = np.concatenate(positions)
    return Surface(pos, np.concatenate(normals), np.concatenate(indices).astype(np.int64), np.zeros(len(pos), np.int64))


def mesh_roads(pieces: RoadPieces, grid: HeightGrid | None = None) -> Surface:
    """The road pieces as one surface (owner: index into ``pieces.lines``): draped, bridges as decks."""
    bridges = pieces.bridges or [False] * len(pieces.lines)
    ground = [i for i, b in enumerate(bridges) if not b]
    draped = drape_polygons([pieces.polygons[i] for i in ground], [class_lift(pieces.classes[i]) for i in ground], grid)
    parts = [Surface(draped.positions, draped.normals, draped.indices, np.asarray(ground, np.int64)[draped.owner])]
    # Decks lie above every ground class where they meet the road at their ends.
    deck_lift = class_lift(CLASS_ORDER[-1]) + LIFT_STEP
    for i in (i for i, b in enumerate(bridges) if b):
        deck = mesh_deck(pieces.polygons[i], pieces.lines[i], grid, deck_lift)
        parts.append(Surface(deck.positions, deck.normals, deck.indices, np.full(len(deck.positions), i, np.int64)))
    return _concat(parts)


def _concat(parts: Sequence[Surface]) -> Surface:
    offsets = np.cumsum([0] + [len(p.positions) for p in parts[:-1]])
    return Surface(
        np.concatenate([p.positions for p in parts]).reshape(-1, 3),
        np.concatenate([p.normals for p in parts]).reshape(-1, 3),
        np.concatenate([p.indices + o for p, o in zip(parts, offsets, strict=True)]).reshape(-1, 3).astype(np.int64),
        np.concatenate([p.owner for p in parts]).astype(np.int64),
    )


def road_colors(pieces: RoadPieces, owner: np.ndarray) -> np.ndarray:
    """(n, 3) uint8 sRGB vertex colours by each vertex's class."""
    palette = np.array([CLASS_COLORS[c] for c in pieces.classes], dtype=np.uint8).reshape(-1, 3)
    return palette[owner]
