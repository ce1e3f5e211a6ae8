"""Footprint cleaning shared by the readers: the polygonal 2D part of a geometry, or why there is none."""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon


def clean_footprint(geometry: Any) -> tuple[Polygon | MultiPolygon | None, str]:
    """The polygonal, 2D part of a geometry, or ``(None, reason)`` when there is none.

    Only the minimal checks of a reader: the repair stage fixes invalid rings later. Polygons whose
    outer ring has fewer than 3 distinct points are dropped; a MultiPolygon keeps its good members.
    """
    if geometry is None or geometry.is_empty:
        return None, "no geometry"
    if geometry.geom_type == "GeometryCollection":
        geometry = MultiPolygon(
            [p for g in geometry.geoms if g.geom_type in ("Polygon", "MultiPolygon") for p in _polygons(g)]
        )
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        return None, "no polygonal geometry"
    if geometry.has_z:
        geometry = shapely.force_2d(geometry)
    good = [p for p in _polygons(geometry) if _distinct_points(p) >= 3]
    if not good:
        return None, "fewer than 3 distinct points"
    if len(good) == 1:
        return good[0], ""
    if len(good) == len(geometry.geoms):
        return geometry, ""
    return MultiPolygon(good), ""


def _polygons(geometry: Polygon | MultiPolygon) -> list[Polygon]:
    return [geometry] if geometry.geom_type == "Polygon" else list(geometry.geoms)


def _distinct_points(polygon: Polygon) -> int:
    coords = shapely.get_coordinates(polygon.exterior)
    return len({(float(x), float(y)) for x, y in coords})
