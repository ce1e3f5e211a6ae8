"""What an OSM context element is: a road of some width, a rail, an area of some kind, a tree (no I/O).

:func:`classify` turns a :class:`twin.read.osmcontext.OsmElement` into a :class:`LineFeature`,
:class:`AreaFeature` or :class:`PointFeature` (EPSG:4326, tags kept), or ``None`` for what the scene does not
draw. Roads get a width from ``width`` (``"7"``, ``"7 m"``, ``"7,5"``), else ``lanes`` × :data:`LANE_WIDTH`,
else :data:`ROAD_WIDTHS` by ``highway`` class. Bridges are kept (the street mesher lifts them onto decks at
their height, :func:`is_bridge`, :func:`layer`); tunnels and other ways below or above the ground without a
bridge are left out. :func:`sidewalks` says which sides of a road have a sidewalk drawn beside it (tagged, or
typical for its class). A closed way whose tags make it an area but which osmium could not assemble (a
self-intersecting ring) is repaired with ``shapely.make_valid`` instead of being dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon

from twin.errors import InvalidGeometry
from twin.read.osmcontext import OsmElement
from twin.report import Report

from .records import AreaFeature, Feature, LineFeature, PointFeature

#: The CRS of every OSM geometry.
OSM_CRS = "EPSG:4326"
#: Metres per lane where ``lanes`` is given without ``width``.
LANE_WIDTH = 3.25
#: Carriageway widths (m) by ``highway`` value, for ways without ``width`` or ``lanes``.
ROAD_WIDTHS: dict[str, float] = {
    "motorway": 14.0,
    "trunk": 12.0,
    "primary": 10.0,
    "secondary": 8.5,
    "tertiary": 7.0,
    "residential": 6.0,
    "unclassified": 5.5,
    "living_street": 5.0,
    "service": 3.5,
    "road": 5.0,
    "track": 3.0,
    "pedestrian": 4.0,
    "busway": 6.5,
}
#: Path widths (m) by ``highway`` value (kind ``path`` or ``cycleway``).
PATH_WIDTHS: dict[str, float] = {"footway": 2.0, "path": 1.5, "cycleway": 2.0, "steps": 2.0, "bridleway": 2.0}
#: Rail gauges as drawn (m, sleepers included) by ``railway`` value.
RAIL_WIDTHS: dict[str, float] = {
    "rail": 3.0,
    "light_rail": 3.0,
    "subway": 3.0,
    "tram": 2.6,
    "narrow_gauge": 2.5,
    "monorail": 1.5,
    "funicular": 2.5,
}
#: Road classes that have a sidewalk on both sides where the tags say nothing (streets of built-up areas).
SIDEWALK_CLASSES = ("primary", "secondary", "tertiary", "residential")
#: Metres across a sidewalk without ``sidewalk:width``.
SIDEWALK_WIDTH = 2.0
#: What a repaired area is reported as.
REPAIRED_RING = "context: self-intersecting area (make_valid)"
#: Area kind by (key, value): what the green and paved layers draw.
AREA_TAGS: dict[tuple[str, str], str] = {
    **{("landuse", v): "grass" for v in ("grass", "village_green", "meadow", "recreation_ground", "flowerbed")},
    **{("natural", v): "grass" for v in ("grassland", "heath")},
    ("natural", "scrub"): "scrub",
    **{("leisure", v): "park" for v in ("park", "garden", "common", "dog_park", "nature_reserve")},
    **{("leisure", v): "pitch" for v in ("pitch", "playground", "track")},
    ("landuse", "forest"): "forest",
    ("natural", "wood"): "forest",
    ("natural", "tree_group"): "forest",
    **{("landuse", v): "farmland" for v in ("farmland", "farmyard", "orchard", "vineyard", "allotments")},
    ("natural", "water"): "water",
    ("landuse", "basin"): "water",
    ("landuse", "reservoir"): "water",
    ("waterway", "riverbank"): "water",
    ("leisure", "swimming_pool"): "water",
    ("amenity", "parking"): "parking",
    ("place", "square"): "pedestrian",
}
#: Area kinds in which trees are scattered (see twin.context.trees).
WOODED = ("forest", "park")
_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(m|metres?|meters?)?\s*$")


def number(value: str | None) -> float | None:
    """A positive number of metres from an OSM value (``"7"``, ``"7.5 m"``, ``"7,5"``), else None."""
    if value is None:
        return None
    match = _NUMBER.match(value)
    if match is None:
        return None
    out = float(match.group(1).replace(",", "."))
    return out if out > 0 else None


def layer(tags: Mapping[str, str]) -> int:
    """The way's ``layer`` (0 where missing or not a whole number; a bridge without one is on layer 1)."""
    try:
        value = int(str(tags.get("layer", "")).strip())
    except ValueError:
        value = 0
    return max(value, 1) if is_bridge(tags) and "layer" not in tags else value


def is_bridge(tags: Mapping[str, str]) -> bool:
    """Whether a way is a bridge (``bridge=yes``, ``viaduct``, ...), drawn as a deck at its height."""
    return tags.get("bridge", "no") not in ("no", "") or tags.get("man_made") == "bridge"


def off_the_ground(tags: Mapping[str, str]) -> bool:
    """Whether a way is not drawn at all: a tunnel (``tunnel=yes``, a negative layer), covered or underground.

    Bridges are not off the ground here: they are drawn as decks (:func:`is_bridge`).
    """
    if is_bridge(tags):
        return False
    if tags.get("tunnel", "no") not in ("no", "building_passage", ""):
        return True
    if layer(tags) < 0 and tags.get("location") != "overground":
        return True
    return tags.get("covered") == "yes" or tags.get("location") in ("underground", "overground")


def sidewalks(tags: Mapping[str, str]) -> tuple[float, float]:
    """Metres of sidewalk drawn on the (left, right) side of a road; 0 for none.

    Tagged (``sidewalk=both|left|right|no|separate``, ``sidewalk:both|left|right=yes|no|separate``) or
    typical: the streets of :data:`SIDEWALK_CLASSES` have one on both sides where the tags say nothing.
    ``separate`` means the sidewalk is a way of its own (``footway=sidewalk``), drawn as a path: not here.
    """
    if "highway" not in tags or tags.get("area") == "yes":
        return 0.0, 0.0
    value = tags.get("sidewalk", tags.get("sidewalk:both"))
    sides = {"both": (True, True), "left": (True, False), "right": (False, True), "yes": (True, True)}
    if value in sides:
        left, right = sides[value]
    elif value is None and tags.get("highway", "").removesuffix("_link") in SIDEWALK_CLASSES:
        left = right = True
    else:
        left = right = False
    left = {"yes": True, "no": False, "separate": False, "none": False}.get(tags.get("sidewalk:left", ""), left)
    right = {"yes": True, "no": False, "separate": False, "none": False}.get(tags.get("sidewalk:right", ""), right)
    width = SIDEWALK_WIDTH
    for key in ("sidewalk:width", "sidewalk:both:width"):
        width = number(tags.get(key)) or width
    return (width if left else 0.0), (width if right else 0.0)


def ring_area(ring: LineString) -> Polygon | MultiPolygon | None:
    """The polygon(s) of a closed ring, repaired with ``shapely.make_valid`` (None: no area is left)."""
    coords = list(ring.coords)
    if len(coords) < 4:
        return None
    polygon = Polygon(coords)
    if polygon.is_valid:
        return polygon
    fixed = shapely.make_valid(polygon)
    parts = [g for g in getattr(fixed, "geoms", [fixed]) if isinstance(g, Polygon | MultiPolygon) and not g.is_empty]
    flat = [q for g in parts for q in (g.geoms if isinstance(g, MultiPolygon) else [g])]
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else MultiPolygon(flat)


def road_width(tags: Mapping[str, str]) -> float | None:
    """Metres across a highway or railway: ``width``, else ``lanes`` × lane width, else the class default."""
    width = number(tags.get("width"))
    if width is not None:
        return width
    lanes = number(tags.get("lanes"))
    highway = tags.get("highway", "").removesuffix("_link")  # a slip road is as wide as its class
    if lanes is not None and highway in ROAD_WIDTHS:
        return lanes * LANE_WIDTH
    return ROAD_WIDTHS.get(highway) or PATH_WIDTHS.get(highway) or RAIL_WIDTHS.get(tags.get("railway", ""))


def line_kind(tags: Mapping[str, str]) -> str | None:
    """``road``, ``path``, ``cycleway``, ``rail``, ``tram`` or ``tree_row``; None for lines not drawn."""
    highway, railway = tags.get("highway", "").removesuffix("_link"), tags.get("railway")
    if tags.get("natural") == "tree_row":
        return "tree_row"
    if off_the_ground(tags) or tags.get("area") == "yes":
        return None
    if highway in ROAD_WIDTHS:
        return "road"
    if highway in PATH_WIDTHS:
        return "cycleway" if highway == "cycleway" else "path"
    if railway in RAIL_WIDTHS:
        return "tram" if railway == "tram" else "rail"
    return None


def area_kind(tags: Mapping[str, str]) -> str | None:
    """The kind of a polygon's area (see :data:`AREA_TAGS`); ``highway=pedestrian`` polygons are squares.

    Areas below the ground (a negative ``layer``, ``parking=underground``) are not drawn: None.
    """
    if layer(tags) < 0 or tags.get("location") == "underground" or tags.get("parking") == "underground":
        return None
    if tags.get("highway") == "pedestrian" or "area:highway" in tags:
        return "pedestrian"
    for key in ("leisure", "landuse", "natural", "amenity", "place", "waterway"):
        kind = AREA_TAGS.get((key, tags.get(key, "")))
        if kind is not None:
            return kind
    return None


def classify(element: OsmElement, source: str = "", report: Report | None = None) -> Feature | None:
    """The context record of an element (EPSG:4326), or None when the scene does not draw it.

    A closed way with area tags that osmium could not assemble is its ring made valid (``report``: recorded
    as repaired). Raises :class:`InvalidGeometry` for a broken geometry (the caller reports it).
    """
    geometry, tags = element.geometry, dict(element.tags)
    ring = isinstance(geometry, LineString) and geometry.is_closed and area_kind(tags) is not None
    if ring and (line_kind(tags) is None or tags.get("area") == "yes"):
        area = ring_area(geometry)
        if area is None:
            raise InvalidGeometry(f"{element.id}: the ring encloses no area")
        if report is not None and not Polygon(geometry.coords).is_valid:
            report.repair(element.id, REPAIRED_RING)
        geometry = area
    if isinstance(geometry, Point):
        if tags.get("natural") != "tree":
            return None
        height = number(tags.get("height"))
        crown = number(tags.get("diameter_crown"))
        return PointFeature(element.id, source, OSM_CRS, "tree", geometry, height, crown, tags)
    if isinstance(geometry, Polygon | MultiPolygon):
        kind = area_kind(tags)
        if kind is not None:
            return AreaFeature(element.id, source, OSM_CRS, kind, geometry, tags)
        # A closed way that is a line (a roundabout, a loop of footway): its ring.
        if isinstance(geometry, Polygon) and line_kind(tags) is not None:
            geometry = LineString(geometry.exterior.coords)
        else:
            return None
    if isinstance(geometry, LineString | MultiLineString):
        kind = line_kind(tags)
        if kind is None:
            return None
        return LineFeature(element.id, source, OSM_CRS, kind, geometry, road_width(tags), tags)
    raise InvalidGeometry(f"{element.id}: a {geometry.geom_type} is no context geometry")
