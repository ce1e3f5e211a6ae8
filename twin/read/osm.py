"""OpenStreetMap buildings from OSM XML (``.osm``, ``.osm.gz``, ``.osm.bz2``) and PBF (``.osm.pbf``).

pyosmium streams the file and assembles areas: closed ways and ``type=multipolygon`` relations become
polygons with holes, node locations held in osmium's own index (C++), never in Python lists. Only ways and
relations tagged ``building`` or ``building:part`` reach Python.

Building parts (OSM Simple 3D Buildings): where ``building:part`` areas lie inside a ``building`` outline,
the parts are drawn and the outline is not (``report.count("outline_replaced_by_parts")``); the parts get
``parent`` = the outline's id and inherit its address, name, usage and year where they have none.

Memory trade-off: deciding containment needs every outline and every part, and in an OSM file parts may
come after their outline (ways before relations), so this module keeps the footprints (shapely polygons
plus a small properties dict per building) of the whole file until the end, then yields. Measured on
bayreuth_north.osm.gz (4,267 buildings): peak memory 20 MB above the interpreter's, about 5 KB per building
including osmium's node index, so a city of a million buildings needs a few GB; split larger regions into
extracts. Node coordinates are not kept in Python beyond each footprint, except that a closed building
way's coordinates wait (a small array) until osmium hands over its area, for the two cases below.

Broken ways are kept or named, never dropped in silence:

- A self-intersecting way (a bow-tie, a ring crossing itself) is an area osmium's assembler leaves empty;
  its polygon is built from the way's own nodes instead and the repair stage makes it valid
  (``shapely.make_valid``, method ``structure``), keeping *all* parts as one building (a MultiPolygon
  with the way's id): the parts are one mis-drawn building, and one id keeps picking and the property
  table honest. Counted as ``repaired: self-intersecting way``.
- A way cut at the extract's edge (its nodes outside a bounding-box extract are missing) is skipped as
  ``cut at the extract's edge``, with its id in the report's examples.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import osmium
from osmium.filter import EntityFilter, KeyFilter
from osmium.osm import AREA, RELATION, WAY
from shapely.geometry import MultiPolygon, Polygon

from twin.errors import SourceError
from twin.read.clean import clean_footprint
from twin.read.osmbuildings import OSM_CRS, make_building, resolve_parts
from twin.read.osmtags import building_kind
from twin.records import Building, ReaderOptions
from twin.report import Report


def _area_geometry(area: osmium.osm.Area) -> Polygon | MultiPolygon:
    """The polygon(s) of an osmium area (rings closed, lon/lat)."""
    polygons = []
    for outer in area.outer_rings():
        shell = [(n.lon, n.lat) for n in outer]
        holes = [[(n.lon, n.lat) for n in inner] for inner in area.inner_rings(outer)]
        polygons.append(Polygon(shell, holes))
    return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)


def _way_coords(way: osmium.osm.Way) -> np.ndarray | None:
    """(n, 2) lon/lat of a way's nodes, or ``None`` when a node's location is missing (cut at the edge)."""
    if not all(n.location.valid() for n in way.nodes):
        return None
    return np.array([(n.lon, n.lat) for n in way.nodes], dtype=np.float64)


def _ring_polygon(coords: np.ndarray) -> Polygon | None:
    """The (possibly invalid) polygon of a closed way's nodes; ``None`` with fewer than 3 distinct ones."""
    if len(np.unique(coords, axis=0)) < 3:
        return None
    return Polygon(coords)


def _objects(processor: osmium.FileProcessor, path: Path) -> Iterator[Any]:
    """The processor's objects, with osmium's read errors turned into :class:`SourceError`."""
    iterator = iter(processor)
    while True:
        try:
            obj = next(iterator)
        except StopIteration:
            return
        except (RuntimeError, OSError, ValueError, osmium.InvalidLocationError) as err:
            # InvalidLocationError is osmium's own (not a RuntimeError): a node with lat="" or lon="x".
            raise SourceError(f"cannot read OSM file {path}: {err}") from err
        yield obj


def read_osm(
    path: str | os.PathLike[str], *, options: ReaderOptions, report: Report, source: str = ""
) -> Iterator[Building]:
    """Buildings and building parts of an OSM XML or PBF file, in EPSG:4326.

    Ids are ``"way/<id>"`` and ``"relation/<id>"`` (multipolygons). Self-intersecting ways are rebuilt
    from their nodes (the repair stage makes them valid); building ways that are not closed, cut at the
    extract's edge, and multipolygons osmium cannot assemble are skipped into the report; everything
    that is not a building is ignored without a word.

    Raises :class:`SourceError` when the file is missing, truncated or not OSM data (on the first
    ``next()``: the whole file is read before the first building comes out, see the module docstring).
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"OSM file not found: {path}")
    source = source or path.name
    keys = ("building", "building:part")
    try:
        processor = (
            osmium.FileProcessor(str(path))
            .with_areas(KeyFilter(*keys))
            .with_filter(EntityFilter(WAY | RELATION | AREA))
            .with_filter(KeyFilter(*keys))
        )
    except (RuntimeError, OSError, ValueError) as err:
        raise SourceError(f"cannot open OSM file {path}: {err}") from err

    # Ids of building ways and multipolygons still waiting for their area: whatever is left at the end
    # osmium could not assemble, and is reported.
    # The coordinates of a pending way rebuild it where osmium's assembler gives up (self-intersections).
    pending_ways: dict[int, tuple[np.ndarray, dict[str, str], bool]] = {}
    pending_relations: set[int] = set()
    buildings: list[tuple[Building, bool]] = []

    def add(feature_id: str, geometry: Polygon | MultiPolygon, tags: dict[str, str], part: bool) -> None:
        footprint, problem = clean_footprint(geometry)
        if footprint is None:
            report.skip(feature_id, problem)
            return
        building = make_building(
            feature_id, footprint, tags, crs=OSM_CRS, source=source, options=options, report=report
        )
        buildings.append((building, part))

    for obj in _objects(processor, path):
        if obj.is_way():
            kind = building_kind(obj.tags)
            if kind is None:
                continue
            coords = _way_coords(obj)
            if coords is None:
                report.skip(f"way/{obj.id}", "cut at the extract's edge")
            elif obj.is_closed():
                pending_ways[obj.id] = (coords, {t.k: t.v for t in obj.tags}, kind == "part")
            else:
                report.skip(f"way/{obj.id}", "unclosed way")
            continue
        if obj.is_relation():
            if obj.tags.get("type") == "multipolygon" and building_kind(obj.tags) is not None:
                pending_relations.add(obj.id)
            continue
        # An area: from a closed way or a multipolygon relation.
        kind = building_kind(obj.tags)
        if kind is None:
            continue
        waiting = None
        if obj.from_way():
            feature_id = f"way/{obj.orig_id()}"
            waiting = pending_ways.pop(obj.orig_id(), None)
        else:
            feature_id = f"relation/{obj.orig_id()}"
            pending_relations.discard(obj.orig_id())
        try:
            geometry = _area_geometry(obj)
        except osmium.InvalidLocationError:
            report.skip(feature_id, "cut at the extract's edge")
            continue
        except ValueError:  # shapely: a ring of fewer than 4 points
            geometry = Polygon()
        if geometry.is_empty and waiting is not None:
            # osmium's assembler leaves self-intersecting rings empty: rebuild from the way's own nodes.
            pending_ways[obj.orig_id()] = waiting
            continue
        add(feature_id, geometry, {tag.k: tag.v for tag in obj.tags}, kind == "part")

    for way_id, (coords, tags, part) in sorted(pending_ways.items()):
        polygon = _ring_polygon(coords)
        if polygon is None:
            report.skip(f"way/{way_id}", "fewer than 3 distinct points")
            continue
        report.repair(f"way/{way_id}", "self-intersecting way")
        add(f"way/{way_id}", polygon, tags, part)
    for relation_id in sorted(pending_relations):
        report.skip(f"relation/{relation_id}", "multipolygon not assembled")
    yield from resolve_parts(buildings, report)
