"""OSM buildings from tags and polygons, shared by the OSM (.osm/.pbf) and OSM-GeoJSON readers.

:func:`make_building` turns one feature's polygon(s) and tags into a :class:`Building`; :func:`resolve_parts`
replaces outlines by the ``building:part`` areas inside them (OSM Simple 3D Buildings).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from twin.read.osmtags import building_attributes
from twin.records import Building, ReaderOptions
from twin.report import Report

#: OSM coordinates are WGS 84 longitude/latitude.
OSM_CRS = "EPSG:4326"
#: Properties a part takes from its outline when it has none of its own.
INHERITED = ("address", "name", "usage", "year")


def make_building(
    feature_id: str,
    geometry: Polygon | MultiPolygon,
    tags: Mapping[str, str],
    *,
    crs: str,
    source: str,
    options: ReaderOptions,
    report: Report,
) -> Building:
    """One :class:`Building` from an OSM feature's polygon(s) and tags (heights, roof, metadata)."""
    attrs = building_attributes(tags, feature_id, options=options, report=report)
    return Building(
        id=feature_id,
        source=source,
        crs=crs,
        footprint=geometry,
        base=attrs.base,
        height=attrs.height,
        roof=attrs.roof,
        properties=attrs.properties,
    )


def resolve_parts(buildings: Iterable[tuple[Building, bool]], report: Report) -> Iterator[Building]:
    """Replace outlines that contain ``building:part`` areas by those parts.

    buildings : (building, is_part) in file order
    Yields the buildings in the same order, less the replaced outlines; each part inside an outline gets
    ``parent`` = the outline's id and the outline's :data:`INHERITED` properties it lacks. A part lies
    inside an outline when its representative point does; inside several (nested outlines), the smallest
    outline is its parent.
    """
    items = list(buildings)
    part_index = [i for i, (_, is_part) in enumerate(items) if is_part]
    outline_index = [i for i, (_, is_part) in enumerate(items) if not is_part]
    if not part_index or not outline_index:
        yield from (b for b, _ in items)
        return

    # Point-in-polygon tests do not mind broken rings (self-intersections are common in OSM), so the
    # footprints go in as they are; the repair stage fixes them later.
    outlines = np.asarray([items[i][0].footprint for i in outline_index], dtype=object)
    parts = np.asarray([items[i][0].footprint for i in part_index], dtype=object)
    tree = shapely.STRtree(outlines)
    which_part, which_outline = tree.query(shapely.point_on_surface(parts), predicate="within")
    areas = shapely.area(outlines)

    # For each part, the smallest outline around it.
    parent_of: dict[int, int] = {}
    for p, o in zip(which_part.tolist(), which_outline.tolist(), strict=True):
        if p not in parent_of or areas[o] < areas[parent_of[p]]:
            parent_of[p] = o
    replaced = {outline_index[o] for o in parent_of.values()}
    report.count("outline_replaced_by_parts", len(replaced))

    parent_at = {part_index[p]: outline_index[o] for p, o in parent_of.items()}
    for i, (building, _) in enumerate(items):
        if i in replaced:
            continue
        if i in parent_at:
            outline = items[parent_at[i]][0]
            properties = dict(building.properties)
            for key in INHERITED:
                if key in outline.properties and properties.get(key) in (None, "", "yes"):
                    properties[key] = outline.properties[key]
            building = dataclasses.replace(building, parent=outline.id, properties=properties)
        yield building
