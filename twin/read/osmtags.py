"""OpenStreetMap building tags → heights, roofs and metadata (OSM Simple 3D Buildings).

Shared by the OSM readers (XML/PBF and GeoJSON exports). Nothing here does I/O or geometry: the functions
take the tag mapping of one feature and return plain values. Tag values in OSM are free text, so every
parser returns ``None`` for values it cannot read and the caller reports them (``report.repair(id,
"bad height tag")``); one bad tag never drops a building.

Height model (https://wiki.openstreetmap.org/wiki/Simple_3D_Buildings):

- ``height`` is the top of the roof above ground, ``min_height`` the bottom of the walls;
- without ``height``: ``building:levels × level_height`` (walls) plus the roof: ``roof:height``, else
  ``roof:levels × roof_level_height``, else :data:`DEFAULT_PITCHED_ROOF_HEIGHT` for a pitched roof;
- without ``min_height``: ``building:min_level × level_height``;
- with neither ``height`` nor ``building:levels``: the default of the building's type
  (:mod:`twin.read.building_types`; its roof too where ``roof:shape`` is not tagged), else nothing (the
  repair stage applies the scene's default height).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from twin.read.building_types import BUILTIN, TypeDefault, building_type
from twin.records import ROOF_SHAPES, ReaderOptions, Roof
from twin.report import Report

#: Height of a pitched roof whose height the tags do not give (metres): about a 35° pitch over a
#: 8–9 m deep house. Shallow buildings get less (see :func:`building_attributes`).
DEFAULT_PITCHED_ROOF_HEIGHT = 3.0
#: A tagged roof taller than the building is clipped to this share of the building's height.
MAX_ROOF_SHARE = 0.9
#: Lengths above this are typos or garbage (the tallest building is 828 m).
MAX_LENGTH = 1000.0
#: Storey counts above this are typos (the tallest building has 163).
MAX_LEVELS = 250.0

#: OSM roof:shape values that map to another name the mesher knows.
ROOF_ALIASES = {"pyramid": "pyramidal", "pent": "skillion", "lean_to": "skillion", "shed": "skillion"}

#: Compass points (16-wind rose) → degrees clockwise from north.
COMPASS = {
    name: i * 22.5
    for i, name in enumerate(
        ["N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW"]
    )
}

_FEET = 0.3048
_INCH = 0.0254
_UNITS = {
    "": 1.0,
    "m": 1.0,
    "meter": 1.0,
    "meters": 1.0,
    "metre": 1.0,
    "metres": 1.0,
    "ft": _FEET,
    "feet": _FEET,
    "foot": _FEET,
    "'": _FEET,
}
# A number with "." or "," as the decimal mark, then an optional unit ("12", "12.5 m", "12,5m", "40 ft").
_LENGTH = re.compile(r"^\s*(\d+(?:[.,]\d+)?|[.,]\d+)\s*([a-z']*)\s*$")
# Feet and inches: 12'6" (the OSM wiki's notation for imperial heights).
_FEET_INCHES = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*'\s*(\d+(?:\.\d+)?)\s*\"\s*$")
_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?|[.,]\d+)\s*$")


def parse_length(value: str | None) -> float | None:
    """A length tag in metres: ``"12"``, ``"12 m"``, ``"12m"``, ``"12,5"``, ``"40 ft"``, ``12'6"``.

    Returns ``None`` for anything else: words (``"tall"``), negative numbers, exponents (``"1e9"``),
    lists (``"12;15"``) and values above :data:`MAX_LENGTH`.
    """
    if value is None:
        return None
    text = value.strip().lower()
    match = _FEET_INCHES.match(text)
    if match:
        metres = float(match.group(1)) * _FEET + float(match.group(2)) * _INCH
    else:
        match = _LENGTH.match(text)
        if match is None or match.group(2) not in _UNITS:
            return None
        metres = float(match.group(1).replace(",", ".")) * _UNITS[match.group(2)]
    if not math.isfinite(metres) or metres > MAX_LENGTH:
        return None
    return metres


def parse_levels(value: str | None) -> float | None:
    """A storey count (``building:levels``, ``roof:levels``, ``building:min_level``) as a float.

    Half storeys (``"2.5"``) are allowed; words, negative numbers and counts above :data:`MAX_LEVELS`
    give ``None``.
    """
    if value is None:
        return None
    match = _NUMBER.match(value)
    if match is None:
        return None
    levels = float(match.group(1).replace(",", "."))
    return levels if levels <= MAX_LEVELS else None


def parse_direction(value: str | None) -> float | None:
    """``roof:direction`` in degrees clockwise from north, in [0, 360).

    Accepts degrees (``"135"``, ``"22.5"``) and compass points of the 16-wind rose (``"SE"``, ``"nne"``).
    """
    if value is None:
        return None
    text = value.strip().upper()
    if text in COMPASS:
        return COMPASS[text]
    match = _NUMBER.match(text)
    if match is None:
        return None
    return float(match.group(1).replace(",", ".")) % 360.0


def parse_roof_shape(value: str | None) -> tuple[str, bool]:
    """``roof:shape`` → (one of :data:`twin.records.ROOF_SHAPES`, whether it fell back to ``flat``).

    A missing tag is ``("flat", False)``; shapes the mesher cannot draw (``dome``, ``saltbox``, ``gambrel``,
    ``round``, ``mansard``, ...) are ``("flat", True)``.
    """
    if value is None or not value.strip():
        return "flat", False
    text = value.strip().lower()
    text = ROOF_ALIASES.get(text, text)
    if text in ROOF_SHAPES:
        return text, False
    return "flat", True


def format_address(tags: Mapping[str, str]) -> str | None:
    """``"Housename, Street 12, 20259 Hamburg"`` from the ``addr:*`` tags; ``None`` when there are none.

    ``addr:place`` stands in for the street where a place has no streets (villages, islands). A house
    name equal to the building's ``name`` is left out: the name is a property of its own.
    """
    street = tags.get("addr:street") or tags.get("addr:place")
    number = tags.get("addr:housenumber")
    parts = []
    housename = (tags.get("addr:housename") or "").strip()
    if housename and housename != (tags.get("name") or "").strip():
        parts.append(housename)
    line = " ".join(p.strip() for p in (street, number) if p)
    if line:
        parts.append(line)
    town = " ".join(p.strip() for p in (tags.get("addr:postcode"), tags.get("addr:city")) if p)
    if town:
        parts.append(town)
    return ", ".join(parts) or None


def building_kind(tags: Mapping[str, str]) -> str | None:
    """``"part"`` for a ``building:part``, ``"outline"`` for a ``building``, ``None`` for anything else.

    A feature tagged both ways is a part: it draws itself. ``building=no`` / ``building:part=no`` are not
    buildings.
    """
    part = tags.get("building:part")
    if part is not None and part.strip().lower() != "no":
        return "part"
    building = tags.get("building")
    if building is not None and building.strip().lower() != "no":
        return "outline"
    return None


@dataclass(frozen=True, slots=True)
class BuildingAttributes:
    """What the tags of one building say, ready for :class:`twin.records.Building`.

    base : bottom of the walls, metres above ground
    height : top of the roof, metres above ground; ``None`` when the tags give no height
    roof : parametric roof (``height`` always below ``height - base``)
    properties : ``levels``, ``roof_levels``, ``address``, ``name``, ``usage``, ``year``,
        ``height_source``, and ``roof_shape_tag`` where the roof fell back to flat
    """

    base: float = 0.0
    height: float | None = None
    roof: Roof = field(default_factory=Roof)
    properties: dict[str, Any] = field(default_factory=dict)


def _round_levels(levels: float) -> int:
    # Half storeys round up (2.5 → 3): the property table wants whole storeys.
    return math.floor(levels + 0.5)


def _length_tag(tags: Mapping[str, str], key: str, feature_id: str, report: Report, reason: str) -> float | None:
    raw = tags.get(key)
    if raw is None:
        return None
    value = parse_length(raw)
    if value is None:
        report.repair(feature_id, reason)
    return value


def _levels_tag(tags: Mapping[str, str], key: str, feature_id: str, report: Report, reason: str) -> float | None:
    raw = tags.get(key)
    if raw is None:
        return None
    value = parse_levels(raw)
    if value is None:
        report.repair(feature_id, reason)
    return value


def _roof(
    tags: Mapping[str, str], feature_id: str, report: Report, properties: dict[str, Any]
) -> tuple[str, float | None, float | None, float | None, str]:
    """Shape, ``roof:height``, ``roof:levels``, ridge direction and orientation from the tags."""
    shape_tag = tags.get("roof:shape")
    shape, fell_back = parse_roof_shape(shape_tag)
    if fell_back:
        report.count("roof_fallback")
        properties["roof_shape_tag"] = shape_tag
    roof_height = _length_tag(tags, "roof:height", feature_id, report, "bad roof height tag")
    roof_levels = _levels_tag(tags, "roof:levels", feature_id, report, "bad roof levels tag")

    direction = None
    if "roof:direction" in tags:
        direction = parse_direction(tags["roof:direction"])
        if direction is None:
            report.repair(feature_id, "bad roof direction tag")
        elif shape in ("flat", "pyramidal"):
            direction = None

    orientation = "along"
    if "roof:orientation" in tags:
        text = tags["roof:orientation"].strip().lower()
        if text in ("along", "across"):
            orientation = text
        else:
            report.repair(feature_id, "bad roof orientation tag")
    return shape, roof_height, roof_levels, direction, orientation


def _type_default(kind: str, options: ReaderOptions) -> TypeDefault | None:
    """The default shape of a building type (the scene's table, else the built-in one), if it has one."""
    table = options.building_types if options.building_types is not None else BUILTIN
    found = table.get(kind)
    return found if isinstance(found, TypeDefault) else None


def building_attributes(
    tags: Mapping[str, str], feature_id: str, *, options: ReaderOptions, report: Report
) -> BuildingAttributes:
    """Heights, roof and metadata of one OSM building or building part from its tags.

    Unreadable tags are ignored and reported (``report.repair(feature_id, "bad height tag")`` and
    similar); fall-back roof shapes are counted (``report.count("roof_fallback")``). The height stays
    ``None`` when neither ``height`` nor ``building:levels`` is usable and the building's type has no
    default (:mod:`twin.read.building_types`): the repair stage applies the scene's default and
    ``properties["height_source"]`` is ``"default"``. Type defaults set ``height_source`` ``"type"`` and
    are counted per type (``report.tally("height_default_by_type", type)``).
    """
    properties: dict[str, Any] = {}
    shape, roof_height, roof_levels, direction, orientation = _roof(tags, feature_id, report, properties)
    levels = _levels_tag(tags, "building:levels", feature_id, report, "bad levels tag")
    height = _length_tag(tags, "height", feature_id, report, "bad height tag")
    if height == 0.0:
        report.repair(feature_id, "bad height tag")
        height = None
    roof_tagged = roof_height is not None or bool(roof_levels)
    kind = building_type(tags)
    # Parts stacked on others (min_height, min_level) keep the older rules: their type says little.
    untagged = height is None and levels is None and not ({"min_height", "building:min_level"} & tags.keys())
    type_default = _type_default(kind, options) if untagged else None
    if type_default is not None and "roof:shape" not in tags:
        # The type's roof, unless the tags draw one: then the type still gives the size.
        shape = type_default.roof_shape
        if roof_height is None and not roof_levels:
            roof_height = type_default.roof_height if shape != "flat" else None
    pitched = shape != "flat"

    # The part of the height that is roof: tagged height, roof storeys, or a default for pitched roofs.
    if roof_height is not None:
        roof_extent = roof_height
    elif roof_levels:
        roof_extent = roof_levels * options.roof_level_height
    else:
        roof_extent = DEFAULT_PITCHED_ROOF_HEIGHT if pitched else 0.0

    if height is not None:
        properties["height_source"] = "height"
    elif levels is not None and levels * options.level_height + roof_extent > 0.0:
        height = levels * options.level_height + roof_extent
        properties["height_source"] = "levels"
    elif type_default is not None:
        walls = type_default.total_height(options.level_height) - type_default.roof_height
        height = walls + roof_extent
        properties["height_source"] = "type"
        report.tally("height_default_by_type", kind)
    else:
        properties["height_source"] = "default"

    base = _length_tag(tags, "min_height", feature_id, report, "bad min_height tag")
    if base is None:
        min_level = _levels_tag(tags, "building:min_level", feature_id, report, "bad min_level tag")
        base = min_level * options.level_height if min_level is not None else 0.0
    if height is None and base > 0.0 and roof_tagged:
        # A roof on stilts or on top of other parts (a dome: min_height + roof:height, no height): the
        # default height would put its top below its bottom, the roof tags give the top instead.
        height = base + roof_extent
        properties["height_source"] = "height"
    if height is not None and base >= height:
        report.repair(feature_id, "min_height above height")
        base = 0.0

    # The roof must leave some wall: span is the building's full height above its base (the scene's
    # default where the tags give none, since that is what the repair stage will use).
    span = (height if height is not None else options.default_height) - base
    roof_drawn = roof_extent if pitched else 0.0
    if roof_drawn > 0.0 and span > 0.0 and roof_drawn >= span:
        if roof_tagged:
            report.repair(feature_id, "roof taller than building")
            roof_drawn = MAX_ROOF_SHARE * span
        else:
            # Our own default does not fit a low building: give it half the height instead.
            roof_drawn = 0.5 * span

    if levels is not None:
        properties["levels"] = _round_levels(levels)
    if roof_levels is not None:
        properties["roof_levels"] = _round_levels(roof_levels)
    address = format_address(tags)
    if address:
        properties["address"] = address
    if tags.get("name"):
        properties["name"] = tags["name"]
    # building:part=yes says only "this is a part": the use is then in building=* if anywhere.
    usages = [tags.get(k, "").strip() for k in ("building:part", "building")]
    usage = next((u for u in usages if u and u != "yes"), "yes" if any(usages) else "")
    if usage:
        properties["usage"] = usage
    year = tags.get("start_date") or tags.get("construction_date")
    if year:
        properties["year"] = year

    roof = Roof(shape=shape, height=roof_drawn, direction=direction, orientation=orientation)
    return BuildingAttributes(base=base, height=height, roof=roof, properties=properties)
