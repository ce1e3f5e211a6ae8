"""A design's site in the working CRS, and which existing buildings it removes.

A building is removed when at least ``threshold`` of its footprint area lies inside the site; smaller
overlaps are reported as partial so a planner can redraw the site. The planner decides last: ids in ``keep``
stay whatever their share, overlapping ids in ``remove`` go whatever their share. Geometry only, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.strtree import STRtree

from twin.crs import transform_points
from twin.errors import DesignError
from twin.records import Building

from .metrics import footprint
from .model import Design, Placement


@dataclass(frozen=True, slots=True)
class CutOut:
    """The result of cutting a site out of the existing city.

    removed : ids of buildings to leave out of the variant, in input order
    partial : (id, share of its footprint inside the site) for buildings touched but kept, share in (0, 1]
        (1 and anything above the threshold only for buildings the planner keeps)
    shares : (id, share inside the site) of every building the site touches, removed or not
    """

    removed: tuple[str, ...]
    partial: tuple[tuple[str, float], ...]
    shares: tuple[tuple[str, float], ...] = ()


def site_polygon(design: Design, placement: Placement, buffer: float = 2.0) -> Polygon:
    """The design's footprint placed in the working CRS, buffered by ``buffer`` metres, as one polygon.

    Parts that do not touch are joined by their convex hull (a site is one plot).
    """
    local = footprint(design)
    if local.is_empty:
        raise DesignError(f"design {design.id!r} has no footprint to derive a site from")
    return site_from_footprint(local, placement.matrix, buffer, label=f"design {design.id!r}")


def site_from_footprint(
    local: Polygon | MultiPolygon, matrix: np.ndarray, buffer: float = 2.0, label: str = "design"
) -> Polygon:
    """A footprint in local metres placed by a (4, 4) ``matrix`` into the working CRS and buffered: the site
    (what :func:`site_polygon` computes from a loaded design, and the planner's preview from an upload's
    stored footprint)."""
    m = np.asarray(matrix, dtype=np.float64)

    def to_world(xy: np.ndarray) -> np.ndarray:
        return xy @ m[:2, :2].T + m[:2, 3]

    placed = shapely.transform(local, to_world).buffer(buffer, join_style="mitre")
    if isinstance(placed, MultiPolygon):
        placed = placed.convex_hull
    if not isinstance(placed, Polygon) or placed.is_empty:
        raise DesignError(f"{label}: the site polygon is empty")
    return Polygon(placed.exterior)


def given_site(ring: Sequence[Sequence[float]] | np.ndarray, working_crs: str, site_crs: str | None = None) -> Polygon:
    """A site given as a ring of [x, y] pairs, in ``site_crs`` or the working CRS.

    Without ``site_crs``, a ring whose values all look like degrees (|x| ≤ 180, |y| ≤ 90) is taken as
    lon/lat, anything else as working CRS coordinates (no projected city coordinate is that small).
    """
    pts = np.asarray(ring, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3 or not np.all(np.isfinite(pts)):
        raise DesignError("a site needs at least 3 finite [x, y] points")
    if site_crs is None and np.all(np.abs(pts[:, 0]) <= 180.0) and np.all(np.abs(pts[:, 1]) <= 90.0):
        site_crs = "EPSG:4326"
    if site_crs is not None:
        pts = transform_points(pts, site_crs, working_crs)
    poly = shapely.make_valid(Polygon(pts))
    if isinstance(poly, MultiPolygon):
        poly = max(poly.geoms, key=lambda g: g.area)
    if not isinstance(poly, Polygon) or poly.area <= 0:
        raise DesignError("the site polygon has no area")
    return poly


def _outline(building: Building) -> Polygon | MultiPolygon | None:
    """A building's footprint, or for surface models without one, the hull of its surfaces seen from above."""
    if building.footprint is not None and not building.footprint.is_empty:
        return building.footprint
    if building.surfaces:
        pts = np.concatenate([s.exterior[:, :2] for s in building.surfaces])
        hull = shapely.MultiPoint(pts).convex_hull
        if isinstance(hull, Polygon) and hull.area > 0:
            return hull
    return None


def cut_out(
    buildings: Iterable[Building],
    site: Polygon,
    threshold: float = 0.5,
    *,
    keep: Iterable[str] = (),
    remove: Iterable[str] = (),
) -> CutOut:
    """Which buildings (working CRS) a site removes: those with ≥ ``threshold`` of their area inside it.

    keep : ids that stay although their share would remove them (reported as partial with their share)
    remove : ids the site overlaps, removed although their share is below ``threshold`` (ids the site does
        not touch are ignored: a design removes only what it stands on)
    A building part (``parent`` set) goes with its parent: when a parent is removed, so are its parts
    (unless kept), and when a parent is kept, so are its parts.
    """
    if not 0.0 < threshold <= 1.0:
        raise DesignError(f"cut-out threshold {threshold} must be in (0, 1]")
    items: list[tuple[Building, Polygon | MultiPolygon]] = []
    for b in buildings:
        g = _outline(b)
        if g is not None and g.area > 0:
            items.append((b, g))
    if not items:
        return CutOut((), ())
    kept, chosen = set(keep), set(remove)
    kept |= {b.id for b, _ in items if b.parent in kept}  # a kept building keeps its parts
    tree = STRtree([g for _, g in items])
    prepared = shapely.prepared.prep(site)
    removed: list[str] = []
    partial: list[tuple[str, float]] = []
    shares: list[tuple[str, float]] = []
    for index in sorted(tree.query(site, predicate="intersects")):
        b, g = items[int(index)]
        share = 1.0 if prepared.contains(g) else float(g.intersection(site).area / g.area)
        shares.append((b.id, round(share, 4)))
        if b.id not in kept and (share >= threshold or b.id in chosen):
            removed.append(b.id)
        elif share > 1e-9:
            partial.append((b.id, round(share, 4)))
    gone = set(removed)
    for b, _ in items:
        if b.parent in gone and b.id not in gone and b.id not in kept:
            removed.append(b.id)
            gone.add(b.id)
    partial = [(i, s) for i, s in partial if i not in gone]
    return CutOut(tuple(removed), tuple(partial), tuple(shares))
