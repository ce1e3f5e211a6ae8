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
extracts. Node coordinates are not kept in Python beyond each footprint.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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

    Ids are ``"way/<id>"`` and ``"relation/<id>"`` (multipolygons). Building ways that are not closed,
    and areas osmium cannot assemble (missing nodes at the edge of an extract, broken rings), are skipped
    into the report; everything that is not a building is ignored without a word.

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
    pending_ways: set[int] = set()
    pending_relations: set[int] = set()
    buildings: list[tuple[Building, bool]] = []
    for obj in _objects(processor, path):
        if obj.is_way():
            if building_kind(obj.tags) is None:
                continue
            if obj.is_closed():
                pending_ways.add(obj.id)
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
        if obj.from_way():
            feature_id = f"way/{obj.orig_id()}"
            pending_ways.discard(obj.orig_id())
        else:
            feature_id = f"relation/{obj.orig_id()}"
            pending_relations.discard(obj.orig_id())
        try:
            geometry = _area_geometry(obj)
        except osmium.InvalidLocationError:
            report.skip(feature_id, "missing node locations")
            continue
        footprint, problem = clean_footprint(geometry)
        if footprint is None:
            report.skip(feature_id, problem)
            continue
        tags = {tag.k: tag.v for tag in obj.tags}
        building = make_building(
            feature_id, footprint, tags, crs=OSM_CRS, source=source, options=options, report=report
        )
        buildings.append((building, kind == "part"))

    for way_id in sorted(pending_ways):
        report.skip(f"way/{way_id}", "area not assembled")
    for relation_id in sorted(pending_relations):
        report.skip(f"relation/{relation_id}", "multipolygon not assembled")
    yield from resolve_parts(buildings, report)
