"""The records that flow through the pipeline: small frozen dataclasses carrying their georeference.

A reader yields :class:`Building` records in the CRS of its source; the projection stage returns the same
records in the scene's working CRS (metres, Z up). Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from shapely.geometry import MultiPolygon, Polygon

#: Roof shapes the mesher draws; anything else falls back to ``flat`` and is counted in the report.
ROOF_SHAPES = ("flat", "gabled", "hipped", "pyramidal", "skillion")


@dataclass(frozen=True, slots=True)
class Roof:
    """A parametric roof on top of an extruded footprint (OSM Simple 3D Buildings).

    shape : one of :data:`ROOF_SHAPES` (readers map unknown shapes to ``flat`` and report them)
    height : metres from the eaves to the ridge (0 for flat)
    direction : compass bearing in degrees (0 = north, clockwise) that the (main) slope faces, downhill, as
        OSM's ``roof:direction``: for ``gabled``/``hipped`` the ridge runs across it. ``None`` = derived
        from the footprint (``orientation``).
    orientation : ``"along"`` (ridge along the longest side, the default) or ``"across"``
    """

    shape: str = "flat"
    height: float = 0.0
    direction: float | None = None
    orientation: str = "along"


@dataclass(frozen=True, slots=True)
class Surface:
    """One planar boundary polygon of a LoD1/LoD2 model (CityGML), in the building's CRS.

    exterior : (n, 3) float64, the outer ring, not closed (first point != last point)
    holes : tuple of (m, 3) float64 inner rings, not closed
    kind : ``"roof"``, ``"wall"``, ``"ground"``, ``"closure"`` or ``""`` when the source does not say
    """

    exterior: np.ndarray
    holes: tuple[np.ndarray, ...] = ()
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Building:
    """One building (or building part) from any source.

    id : stable source id, e.g. ``"way/123"``, ``"relation/45"``, a CityGML ``gml:id``
    source : name of the source it came from (manifest source name or file name)
    crs : CRS of all coordinates, anything pyproj accepts (``"EPSG:4326"``, ``"EPSG:25832+7837"``)
    footprint : 2D polygon(s) in ``crs``; ``None`` for surface models without a footprint
    base : bottom of the walls in metres above ground (OSM ``min_height``); for surface models the
        absolute height of the lowest point
    height : top of the building including the roof, metres above ground (OSM ``height``); ``None`` when
        the source gives nothing, so the repair stage applies the scene's default and counts it
    roof : parametric roof for extruded footprints
    surfaces : boundary surfaces of LoD1/LoD2 models (3D, in ``crs``); when present they are drawn as they
        are and ``footprint``/``roof`` only serve metadata, tiling and cut-outs
    properties : metadata for the property table. Well-known keys: ``levels`` (int), ``roof_levels``
        (int), ``address`` (str), ``name`` (str), ``usage`` (str, e.g. OSM ``building=*``), ``year`` (str),
        ``height_source`` (``"height"``, ``"levels"``, ``"measured"``, ``"default"``)
    parent : id of the building this is a part of (OSM ``building:part``, CityGML ``BuildingPart``)
    """

    id: str
    source: str
    crs: str
    footprint: Polygon | MultiPolygon | None = None
    base: float = 0.0
    height: float | None = None
    roof: Roof = field(default_factory=Roof)
    surfaces: tuple[Surface, ...] = ()
    properties: Mapping[str, Any] = field(default_factory=dict)
    parent: str | None = None

    @property
    def is_surface_model(self) -> bool:
        """True when the building carries its own surfaces (LoD1/LoD2 from CityGML)."""
        return len(self.surfaces) > 0


@dataclass(frozen=True, slots=True)
class ReaderOptions:
    """Options shared by all readers; a scene manifest fills them in.

    default_height : used by the repair stage where a source gives no height (metres)
    level_height : metres per storey, to derive a height from ``building:levels``
    roof_level_height : metres per roof storey (``roof:levels``)
    height_attribute : for generic footprints, the property holding the height
    id_attribute : for generic footprints, the property holding a stable id (else the feature index)
    crs : override of the source's CRS (for files that do not declare one)
    building_types : default heights and roofs by building type for OSM buildings without height tags,
        ``{type: twin.read.building_types.TypeDefault}``; ``None`` means the built-in table
    limits : the manifest's source limits (``source_seconds``, ``max_inflate_ratio``, ``max_inflated_bytes``),
        raw; :class:`twin.read.limits.SourceLimits` reads them (``None``: the environment's or the defaults)
    """

    default_height: float = 9.0
    level_height: float = 3.0
    roof_level_height: float = 2.5
    height_attribute: str | None = None
    id_attribute: str | None = None
    crs: str | None = None
    building_types: Mapping[str, Any] | None = None
    limits: Mapping[str, Any] | None = None
