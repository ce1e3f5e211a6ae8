"""Default heights and roof shapes by building type, for OSM buildings whose tags give no height.

Most OSM buildings outside a few mapped cities carry ``building=*`` and nothing else: the held-out old
town we tried had 1,885 of 1,886 buildings at the scene's one default height with flat roofs, garages
and churches alike. :data:`BUILTIN` gives each common ``building=*`` value a plausible shape instead:
storeys (times the scene's ``level_height``) or a height in metres, and a roof. The type is the
``building:part``/``building`` value, or for ``building=yes`` what other tags say the building is
(``amenity=place_of_worship`` → church, ``shop=*`` → retail, ...; :func:`building_type`).

A scene overrides or adds types in its manifest (validated by :func:`parse_building_types`)::

    [building_types.garage]
    height = 2.8                # metres to the top of the roof; or levels = 1 (× level_height)
    roof_shape = "flat"         # one of twin.records.ROOF_SHAPES
    roof_height = 0.0           # metres from eaves to ridge (pitched roofs; default 3 m)

Only buildings with no usable ``height`` or ``building:levels`` tag get these defaults, and a tagged
``roof:shape`` always wins over the type's roof (:func:`twin.read.osmtags.building_attributes`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from twin.errors import ManifestError
from twin.records import ROOF_SHAPES

#: Roof height (metres, eaves to ridge) of a pitched type default that does not give one.
DEFAULT_TYPE_ROOF_HEIGHT = 3.0
#: Keys a ``[building_types.<type>]`` table may have.
KEYS = ("height", "levels", "roof_shape", "roof_height")


@dataclass(frozen=True, slots=True)
class TypeDefault:
    """The shape of a building type whose tags say nothing about it.

    levels : storeys of wall (× the scene's ``level_height``), or ``None`` when ``height`` gives the size
    height : metres from the ground to the top of the roof; wins over ``levels`` when both are set
    roof_shape : one of :data:`twin.records.ROOF_SHAPES`
    roof_height : metres from the eaves to the ridge (0 for flat roofs); part of ``height`` when that is
        given, on top of the storeys otherwise
    """

    levels: float | None = None
    height: float | None = None
    roof_shape: str = "flat"
    roof_height: float = 0.0

    def total_height(self, level_height: float) -> float:
        """Metres from the ground to the top of the roof, with storeys of ``level_height``."""
        if self.height is not None:
            return self.height
        return (self.levels or 1.0) * level_height + self.roof_height


def _t(
    levels: float | None = None, height: float | None = None, roof: str = "flat", roof_height: float = 0.0
) -> TypeDefault:
    if roof != "flat" and roof_height == 0.0:
        roof_height = DEFAULT_TYPE_ROOF_HEIGHT
    return TypeDefault(levels=levels, height=height, roof_shape=roof, roof_height=roof_height)


#: Built-in defaults by ``building=*`` value (https://wiki.openstreetmap.org/wiki/Key:building), from
#: typical central-European buildings: storeys for dwellings and offices, metres for halls and sheds.
BUILTIN: dict[str, TypeDefault] = {
    # Homes: two storeys under a gabled roof; blocks of flats four or five, flat.
    "house": _t(2, roof="gabled"),
    "detached": _t(2, roof="gabled"),
    "semidetached_house": _t(2, roof="gabled"),
    "semi": _t(2, roof="gabled"),
    "terrace": _t(2, roof="gabled"),
    "farm": _t(2, roof="gabled", roof_height=4.0),
    "bungalow": _t(1, roof="hipped", roof_height=2.5),
    "residential": _t(4, roof="gabled", roof_height=3.5),
    "apartments": _t(5),
    "dormitory": _t(4),
    "hotel": _t(5),
    # Small outbuildings.
    "garage": _t(height=3.0),
    "garages": _t(height=3.0),
    "carport": _t(height=2.5),
    "shed": _t(height=2.5, roof="skillion", roof_height=0.5),
    "hut": _t(height=3.5, roof="gabled", roof_height=1.5),
    "cabin": _t(height=4.0, roof="gabled", roof_height=2.0),
    "kiosk": _t(height=3.0),
    "toilets": _t(height=3.0),
    "service": _t(height=3.0),
    "roof": _t(height=4.0),
    "greenhouse": _t(height=3.5, roof="gabled", roof_height=1.0),
    "allotment_house": _t(height=3.0, roof="gabled", roof_height=1.0),
    # Worship: tall naves under steep roofs.
    "church": _t(height=20.0, roof="gabled", roof_height=10.0),
    "cathedral": _t(height=32.0, roof="gabled", roof_height=14.0),
    "chapel": _t(height=9.0, roof="gabled", roof_height=4.5),
    "mosque": _t(height=12.0),
    "synagogue": _t(height=14.0),
    "temple": _t(height=10.0),
    "religious": _t(height=12.0, roof="gabled", roof_height=5.0),
    # Work: halls with their typical heights, offices by storeys.
    "commercial": _t(3),
    "office": _t(5),
    "retail": _t(height=6.0),
    "supermarket": _t(height=6.0),
    "industrial": _t(height=8.0),
    "warehouse": _t(height=10.0),
    "manufacture": _t(height=10.0),
    "hangar": _t(height=12.0, roof="gabled", roof_height=3.0),
    "barn": _t(height=8.0, roof="gabled", roof_height=4.0),
    "farm_auxiliary": _t(height=6.0, roof="gabled", roof_height=3.0),
    "stable": _t(height=5.0, roof="gabled", roof_height=2.0),
    "parking": _t(4),
    # Public buildings.
    "school": _t(3),
    "kindergarten": _t(1, roof="gabled", roof_height=2.5),
    "university": _t(4),
    "college": _t(4),
    "hospital": _t(5),
    "public": _t(3),
    "civic": _t(3),
    "government": _t(4),
    "fire_station": _t(2),
    "train_station": _t(height=12.0),
    "transportation": _t(height=8.0),
    "sports_hall": _t(height=10.0),
    "sports_centre": _t(height=10.0),
    "stadium": _t(height=18.0),
    "ruins": _t(height=4.0),
}

#: For ``building=yes``: tag → value → building type (the first tag that matches wins).
IMPLIED: dict[str, dict[str, str]] = {
    "amenity": {
        "place_of_worship": "church",
        "school": "school",
        "kindergarten": "kindergarten",
        "hospital": "hospital",
        "university": "university",
        "college": "college",
        "fire_station": "fire_station",
        "townhall": "civic",
        "parking": "parking",
        "toilets": "toilets",
    },
    "shop": {"*": "retail"},
    "office": {"*": "office"},
    "tourism": {"hotel": "hotel", "hostel": "hotel"},
    "railway": {"station": "train_station"},
}


def building_type(tags: Mapping[str, str]) -> str:
    """The building's type: the ``building:part`` / ``building`` value, else what other tags imply.

    ``"yes"`` when nothing says more (the scene's ``[defaults] height`` then applies).
    """
    for key in ("building:part", "building"):
        value = (tags.get(key) or "").strip().lower()
        if value and value not in ("yes", "no"):
            return value
    for key, values in IMPLIED.items():
        value = (tags.get(key) or "").strip().lower()
        if value and value != "no":
            implied = values.get(value) or values.get("*")
            if implied:
                return implied
    return "yes"


def _number(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ManifestError(f"{where}: '{key}' must be a number >= 0, got {value!r}")
    return float(value)


def parse_building_types(raw: Mapping[str, Any], where: str = "scene.toml") -> dict[str, TypeDefault]:
    """The type table of a scene: :data:`BUILTIN` with a manifest's ``[building_types]`` laid over it.

    raw : the ``[building_types]`` table, ``{type: {height | levels | roof_shape | roof_height: value}}``
    A type the manifest names keeps the built-in keys it does not set, except that ``height`` and
    ``levels`` replace each other. Raises :class:`twin.errors.ManifestError` naming the type and key.
    """
    table = dict(BUILTIN)
    for name, entry in raw.items():
        at = f"{where}: [building_types.{name}]"
        if not isinstance(entry, dict):
            raise ManifestError(f"{at} must be a table, got {entry!r}")
        unknown = sorted(set(entry) - set(KEYS))
        if unknown:
            raise ManifestError(f"{at}: unknown key '{unknown[0]}'; expected {', '.join(KEYS)}")
        base = table.get(str(name).lower(), TypeDefault(levels=None, height=None))
        changes: dict[str, Any] = {}
        if "height" in entry or "levels" in entry:
            changes["height"] = _number(entry["height"], at, "height") if "height" in entry else None
            changes["levels"] = _number(entry["levels"], at, "levels") if "levels" in entry else None
            if changes["height"] == 0.0 or changes["levels"] == 0.0:
                raise ManifestError(f"{at}: 'height' and 'levels' must be above 0")
        if "roof_shape" in entry:
            shape = entry["roof_shape"]
            if shape not in ROOF_SHAPES:
                raise ManifestError(f"{at}: 'roof_shape' must be one of {', '.join(ROOF_SHAPES)}, got {shape!r}")
            changes["roof_shape"] = shape
            if shape == "flat":
                changes["roof_height"] = 0.0
            elif base.roof_height == 0.0:
                changes["roof_height"] = DEFAULT_TYPE_ROOF_HEIGHT
        if "roof_height" in entry:
            changes["roof_height"] = _number(entry["roof_height"], at, "roof_height")
        merged = replace(base, **changes)
        if merged.height is None and merged.levels is None:
            raise ManifestError(f"{at}: a new type needs 'height' or 'levels'")
        if merged.height is not None and merged.roof_height >= merged.height:
            raise ManifestError(f"{at}: 'roof_height' must be below 'height'")
        table[str(name).lower()] = merged
    return table
