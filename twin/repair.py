"""Repair: turn what sources say into buildings the mesher can trust, or skip them with a reason.

Runs after projection (tolerances are in metres of the working CRS). Every change is counted in the report;
nothing here raises for a single building.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from .records import ROOF_SHAPES, Building, ReaderOptions, Roof
from .report import Report

#: Points closer than this (metres) are merged.
SNAP_TOLERANCE = 0.01
#: Polygons (or parts) smaller than this (m²) are dropped. OSM details such as the 0.025 m² ornaments
#: of Berlin's Victory Column stay.
MIN_AREA = 0.01
#: A single building larger than this (m²) is treated as a data error (about 600 × 600 m).
MAX_AREA = 400_000.0
#: Taller than this (metres) is treated as a data error (the tallest building on Earth is 828 m).
MAX_HEIGHT = 1000.0


def _polygonal(geom: BaseGeometry) -> Polygon | MultiPolygon | None:
    """The polygonal parts of ``geom`` (make_valid can return collections with lines and points)."""
    if isinstance(geom, Polygon | MultiPolygon):
        return geom if not geom.is_empty else None
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon) and not g.is_empty]
    if not parts:
        return None
    merged = shapely.union_all(parts)
    return merged if isinstance(merged, Polygon | MultiPolygon) else None


def repair_footprint(
    footprint: Polygon | MultiPolygon, feature_id: str, report: Report
) -> Polygon | MultiPolygon | None:
    """A valid, counter-clockwise, duplicate-free version of ``footprint``, or ``None`` (skipped, reported).

    Handles NaN/Inf coordinates, repeated points, self-intersections and bow-ties, zero-width spikes,
    slivers and wrong winding (exterior counter-clockwise, holes clockwise, as the mesher expects).
    """
    coords = shapely.get_coordinates(footprint)
    if len(coords) == 0:
        report.skip(feature_id, "empty footprint")
        return None
    if not np.all(np.isfinite(coords)):
        report.skip(feature_id, "NaN or infinite coordinates")
        return None
    geom: BaseGeometry = footprint
    cleaned = shapely.remove_repeated_points(geom, SNAP_TOLERANCE)
    if shapely.get_num_coordinates(cleaned) != shapely.get_num_coordinates(geom):
        report.repair(feature_id, "duplicate points removed")
        geom = cleaned
    if not geom.is_valid:
        made = _polygonal(shapely.make_valid(geom, method="structure", keep_collapsed=False))
        if made is None:
            report.skip(feature_id, "invalid polygon beyond repair")
            return None
        report.repair(feature_id, "invalid polygon made valid")
        geom = made
    poly = _polygonal(geom)
    if poly is None:
        report.skip(feature_id, "no polygon")
        return None
    # Drop slivers and spikes left as tiny parts.
    if isinstance(poly, MultiPolygon):
        kept = [p for p in poly.geoms if p.area >= MIN_AREA]
        if len(kept) < len(poly.geoms):
            report.repair(feature_id, "tiny parts removed")
        if not kept:
            report.skip(feature_id, "zero area")
            return None
        poly = kept[0] if len(kept) == 1 else MultiPolygon(kept)
    if poly.area < MIN_AREA:
        report.skip(feature_id, "zero area")
        return None
    if poly.area > MAX_AREA:
        report.skip(feature_id, "absurd extent")
        return None
    oriented = shapely.orient_polygons(poly, exterior_cw=False)
    if not oriented.equals_exact(poly, 0.0):
        report.count("winding_normalized")
    return oriented


def repair_building(building: Building, options: ReaderOptions, report: Report) -> Building | None:
    """Repair one projected building: footprint, heights and roof. ``None`` means skipped (reported)."""
    fid = building.id
    footprint = building.footprint
    if footprint is not None:
        footprint = repair_footprint(footprint, fid, report)
        if footprint is None:
            return None
    elif not building.surfaces:
        report.skip(fid, "no geometry")
        return None
    if building.surfaces:
        # Surface models carry absolute heights; their metadata height is informative only.
        return replace(building, footprint=footprint)

    base = building.base if np.isfinite(building.base) and building.base >= 0 else 0.0
    if base != building.base:
        report.repair(fid, "bad base height reset to 0")
    height = building.height
    properties = dict(building.properties)
    if height is None or not np.isfinite(height) or height <= 0:
        height = options.default_height
        report.count("default_height")
        properties["height_source"] = "default"
    elif height > MAX_HEIGHT:
        report.skip(fid, "absurd height")
        return None
    if height <= base:
        # min_height at or above height: keep a thin slab instead of an inside-out mesh.
        report.repair(fid, "height below min_height")
        height = base + 1.0
    roof = building.roof
    if roof.shape not in ROOF_SHAPES:
        report.count("roof_fallback")
        roof = Roof()
    if roof.shape != "flat":
        max_roof = height - base
        if roof.height <= 0:
            roof = replace(roof, height=min(3.0, max_roof * 0.5))
        elif roof.height >= max_roof:
            report.repair(fid, "roof taller than building clipped")
            roof = replace(roof, height=max_roof * 0.9)
    elif roof.height:
        roof = replace(roof, height=0.0)
    return replace(building, footprint=footprint, base=base, height=height, roof=roof, properties=properties)


def repair_buildings(buildings: list[Building], options: ReaderOptions, report: Report) -> list[Building]:
    """:func:`repair_building` for many buildings, with the common case vectorised.

    Most footprints of real data are already valid; their checks (finite, repeated points, validity, area,
    winding) run as a few shapely array calls. Only the others take the one-by-one path, which repairs or
    skips them with a reason. Results and report entries are the same as calling repair_building on each.
    """
    simple = [
        i
        for i, b in enumerate(buildings)
        if not b.surfaces and isinstance(b.footprint, Polygon) and b.height is not None and b.roof.shape == "flat"
    ]
    fast: dict[int, Building] = {}
    if simple:
        geoms = np.array([buildings[i].footprint for i in simple], dtype=object)
        coords, owner = shapely.get_coordinates(geoms, return_index=True)
        bad = np.bincount(owner[~np.all(np.isfinite(coords), axis=1)], minlength=len(geoms)) > 0
        cleaned = shapely.remove_repeated_points(geoms, SNAP_TOLERANCE)
        same = shapely.get_num_coordinates(cleaned) == shapely.get_num_coordinates(geoms)
        area = shapely.area(geoms)
        ok = ~bad & same & shapely.is_valid(geoms) & (area >= MIN_AREA) & (area <= MAX_AREA)
        oriented = geoms.copy()
        oriented[ok] = shapely.orient_polygons(geoms[ok], exterior_cw=False)
        flipped = ~shapely.equals_exact(oriented, geoms, 0.0)
        for j in np.flatnonzero(ok):
            b = buildings[simple[j]]
            height = float(b.height or 0.0)
            if not (np.isfinite(height) and 0 < height <= MAX_HEIGHT and np.isfinite(b.base) and 0 <= b.base < height):
                continue  # unusual heights: the one-by-one path reports them
            fast[simple[j]] = replace(b, footprint=oriented[j], roof=Roof() if b.roof.height else b.roof)
        report.count("winding_normalized", int(np.count_nonzero(flipped & ok)))
    out = []
    for i, b in enumerate(buildings):
        hit = fast.get(i)
        if hit is None:
            hit = repair_building(b, options, report)
        if hit is not None:
            out.append(hit)
    return out
