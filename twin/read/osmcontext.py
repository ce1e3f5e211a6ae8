"""OpenStreetMap street context (roads, rails, landuse and green areas, trees) from the buildings' OSM sources.

The same files the buildings come from (``.osm``, ``.osm.gz``, ``.osm.bz2``, ``.pbf`` through pyosmium, and
GeoJSON exports) carry the city around them. This reader yields every element whose tags name a context
thing as an :class:`OsmElement`: its id, its lon/lat geometry (a point for nodes, a line for ways, a
polygon for closed areas) and its tags. Deciding what each one is (a road of which width, a park, a tree)
is :mod:`twin.context.osmfeatures`' job, so this module stays a reader like the others (no
:mod:`twin.context` import: the import contracts keep readers below it).

Buildings are not context: elements tagged ``building`` are left to :mod:`twin.read.osm`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shapely.errors import ShapelyError
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

from twin.errors import SourceError
from twin.read.jsonfile import load_json
from twin.report import Report

#: Tag keys that can make an element street context (the values are decided by twin.context.osmfeatures).
CONTEXT_KEYS = ("highway", "railway", "landuse", "leisure", "natural", "amenity", "place", "area:highway", "waterway")
#: Export metadata that GeoJSON exports mix into the tags (not OSM tags; left out of what picking shows).
EXPORT_KEYS = {"timestamp", "version", "changeset", "user", "uid", "id", "@id", "@type", "@timestamp", "@version"}
#: Suffixes read as GeoJSON exports; everything else goes to osmium.
GEOJSON_SUFFIXES = (".geojson", ".json")
#: Report reasons: a way cut at the extract's edge, left out (the kept ones are reported by the caller).
CUT_AWAY = "context: cut at the extract's edge (fewer than 2 nodes inside)"
#: A multipolygon relation osmium could not assemble (members missing at the edge, or broken rings).
UNASSEMBLED = "context: multipolygon not assembled (members cut at the extract's edge, or broken rings)"


@dataclass(frozen=True, slots=True)
class OsmElement:
    """One OSM element with a context tag: ``"node/1"``, ``"way/2"`` or ``"relation/3"``, lon/lat geometry."""

    id: str
    geometry: BaseGeometry
    tags: Mapping[str, str] = field(default_factory=dict)
    #: whether the way was cut at the extract's edge (some nodes missing: the geometry has those there are)
    cut: bool = False


def is_context(tags: Mapping[str, str]) -> bool:
    """Whether the tags can describe context (and not a building, which the building readers take)."""
    return "building" not in tags and "building:part" not in tags and any(k in tags for k in CONTEXT_KEYS)


def read_osm_context(path: str | os.PathLike[str], *, report: Report) -> Iterator[OsmElement]:
    """The context elements of an OSM XML/PBF file or an OSM GeoJSON export, in EPSG:4326.

    Raises :class:`SourceError` for a missing or unreadable file. A way cut at the edge of an extract
    (some of its nodes missing from the file) keeps the nodes there are and comes with ``cut`` set (counted
    as ``context_cut_at_edge``; skipped into the report where fewer than two nodes are left); a multipolygon
    relation osmium cannot assemble is reported as skipped. Closed ways come as their ring too (a line), so
    an area osmium cannot assemble (a self-intersecting ring) still reaches the classifier, which repairs it.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"OSM file not found: {path}")
    if path.name.lower().endswith(GEOJSON_SUFFIXES):
        yield from _geojson_elements(path, report)
    else:
        yield from _osmium_elements(path, report)


# -- OSM XML and PBF ---------------------------------------------------------------------------------------------


def _osmium_elements(path: Path, report: Report) -> Iterator[OsmElement]:
    import osmium
    from osmium.filter import KeyFilter

    try:
        processor = (
            osmium.FileProcessor(str(path)).with_areas(KeyFilter(*CONTEXT_KEYS)).with_filter(KeyFilter(*CONTEXT_KEYS))
        )
        iterator = iter(processor)
    except (RuntimeError, OSError, ValueError) as err:
        raise SourceError(f"cannot open OSM file {path}: {err}") from err
    # Multipolygon relations with context tags, and those osmium made an area of (in either order).
    relations: set[int] = set()
    assembled: set[int] = set()
    while True:
        try:
            obj: Any = next(iterator)
        except StopIteration:
            break
        except (RuntimeError, OSError, ValueError, osmium.InvalidLocationError) as err:
            raise SourceError(f"cannot read OSM file {path}: {err}") from err
        tags = {tag.k: tag.v for tag in obj.tags}
        if not is_context(tags):
            continue
        if obj.is_relation():
            if tags.get("type") == "multipolygon":
                relations.add(obj.id)
            continue
        if obj.is_area() and not obj.from_way():
            assembled.add(obj.orig_id())
        try:
            element = _osmium_way(obj, tags, report) if obj.is_way() else _osmium_element(obj, tags)
        except (osmium.InvalidLocationError, ValueError, ShapelyError):
            report.count("context_skipped")
            continue
        if element is not None:
            yield element
    for ident in sorted(relations - assembled):
        report.skip(f"relation/{ident}", UNASSEMBLED)


def _osmium_way(obj: Any, tags: dict[str, str], report: Report) -> OsmElement | None:
    """An open or closed way as a line of the nodes the file has; a way cut at the edge is reported."""
    ident = f"way/{obj.id}"
    nodes = list(obj.nodes)
    present = [n.location.valid() for n in nodes]
    if all(present):
        coords = [(n.lon, n.lat) for n in nodes]
        return OsmElement(ident, LineString(coords), tags) if len(coords) >= 2 else None
    report.count("context_cut_at_edge")
    # Runs of consecutive nodes inside: a way that leaves the extract and comes back is two pieces, not a
    # chord across what is missing.
    runs: list[list[tuple[float, float]]] = [[]]
    for n, ok in zip(nodes, present, strict=True):
        if ok:
            runs[-1].append((n.lon, n.lat))
        elif runs[-1]:
            runs.append([])
    runs = [r for r in runs if len(r) >= 2]
    if not runs:
        report.skip(ident, CUT_AWAY)
        return None
    # The ring of a cut area is no longer closed: it stays a line (a road keeps what is there); the caller
    # reports it as kept or left out once it knows what the way is.
    geometry = LineString(runs[0]) if len(runs) == 1 else MultiLineString(runs)
    return OsmElement(ident, geometry, tags, cut=True)


def _osmium_element(obj: Any, tags: dict[str, str]) -> OsmElement | None:
    """A node as a point, an assembled area as polygon(s); relations: None."""
    if obj.is_node():
        return OsmElement(f"node/{obj.id}", Point(obj.location.lon, obj.location.lat), tags)
    if obj.is_area():
        polygons = []
        for outer in obj.outer_rings():
            holes = [[(n.lon, n.lat) for n in inner] for inner in obj.inner_rings(outer)]
            polygons.append(Polygon([(n.lon, n.lat) for n in outer], holes))
        kind = "way" if obj.from_way() else "relation"
        geometry = polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
        return OsmElement(f"{kind}/{obj.orig_id()}", geometry, tags)
    return None


# -- GeoJSON exports ---------------------------------------------------------------------------------------------


def _geojson_elements(path: Path, report: Report) -> Iterator[OsmElement]:
    data = load_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise SourceError(f"{path} is not a GeoJSON FeatureCollection")
    for index, feature in enumerate(data["features"]):
        if not isinstance(feature, dict):
            continue
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            continue
        nested = properties.get("tags")
        flat = nested if isinstance(nested, dict) else properties
        tags = {
            str(k): str(v)
            for k, v in flat.items()
            if v is not None and not isinstance(v, dict | list) and k not in EXPORT_KEYS
        }
        if not is_context(tags):
            continue
        ident = feature.get("id") or properties.get("@id") or f"{path.name}/{index}"
        try:
            geometry = shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError, ShapelyError):
            report.count("context_skipped")
            continue
        yield OsmElement(str(ident), geometry, tags)
