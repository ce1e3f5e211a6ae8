"""OpenStreetMap buildings from a GeoJSON export (JOSM, overpass turbo, osmtogeojson).

Such exports carry the OSM tags flat as properties and the OSM id as the feature ``id`` (``"way/123"``),
or as an ``@id`` / ``id`` property; overpass turbo nests the tags under ``properties.tags``. Coordinates
are EPSG:4326 (RFC 7946). Tags are read by :mod:`twin.read.osmtags` and building parts replace their
outlines as in :mod:`twin.read.osm`.

The file is parsed whole with :mod:`json` (exports are editor-sized, tens of MB at most); the buildings
are then collected per file for the building:part containment test (see :mod:`twin.read.osm`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from shapely.errors import ShapelyError
from shapely.geometry import shape

from twin.errors import SourceError
from twin.read.clean import clean_footprint
from twin.read.jsonfile import load_json
from twin.read.osmbuildings import OSM_CRS, make_building, resolve_parts
from twin.read.osmtags import building_kind
from twin.records import Building, ReaderOptions
from twin.report import Report


def _tags(properties: Mapping[str, Any]) -> dict[str, str]:
    """OSM tags of a feature: flat properties, or overpass turbo's nested ``tags``; values as text."""
    nested = properties.get("tags")
    source = nested if isinstance(nested, dict) else properties
    return {str(k): str(v) for k, v in source.items() if v is not None and not isinstance(v, dict | list)}


def _osm_id(feature: Mapping[str, Any], properties: Mapping[str, Any], index: int, source: str) -> str:
    """``"way/123"`` from the feature id or the ``@id``/``id`` property; ``"<source>/<index>"`` else."""
    for value in (feature.get("id"), properties.get("@id"), properties.get("id")):
        if isinstance(value, str) and "/" in value:
            return value
    # osmtogeojson-style "@type" + numeric id.
    kind = properties.get("@type") or properties.get("type")
    for number in (properties.get("@id"), properties.get("id"), feature.get("id")):
        if kind in ("way", "relation", "node") and isinstance(number, int | str) and str(number).isdigit():
            return f"{kind}/{number}"
    return f"{source}/{index}"


def read_osm_geojson(
    path: str | os.PathLike[str], *, options: ReaderOptions, report: Report, source: str = ""
) -> Iterator[Building]:
    """Buildings and building parts of an OSM GeoJSON export, in EPSG:4326.

    Features without a ``building``/``building:part`` tag are ignored silently; buildings without a
    polygon (points, lines) are skipped into the report. Raises :class:`SourceError` for a missing,
    truncated or non-GeoJSON file.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"GeoJSON file not found: {path}")
    source = source or path.name
    data = load_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise SourceError(f"{path} is not a GeoJSON FeatureCollection")

    buildings = []
    for index, feature in enumerate(data["features"]):
        if not isinstance(feature, dict):
            continue
        properties = feature.get("properties")
        if not isinstance(properties, dict):
            properties = {}
        tags = _tags(properties)
        kind = building_kind(tags)
        if kind is None:
            continue
        feature_id = _osm_id(feature, properties, index, source)
        try:
            geometry = shape(feature["geometry"]) if feature.get("geometry") else None
        except (KeyError, TypeError, ValueError, AttributeError, ShapelyError):
            report.skip(feature_id, "unreadable geometry")
            continue
        footprint, problem = clean_footprint(geometry)
        if footprint is None:
            report.skip(feature_id, problem)
            continue
        building = make_building(
            feature_id, footprint, tags, crs=OSM_CRS, source=source, options=options, report=report
        )
        buildings.append((building, kind == "part"))
    yield from resolve_parts(buildings, report)
