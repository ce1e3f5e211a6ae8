"""Design metrics a planner compares variants by: footprint area, height, volume, storeys, gross floor area —
and the same for the existing buildings a design replaces.

Geometry only, no I/O. Areas and volumes are true metres (the design's own frame × its anchor scale), not grid
metres.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from twin.records import Building

from .model import Design, Placement

#: Metres per storey, to estimate storeys (and so floor area) of designs and buildings that do not say.
LEVEL_HEIGHT = 3.0


def footprint(design: Design) -> Polygon | MultiPolygon:
    """The union of the design's triangles seen from above, in local metres (Z-up frame).

    Vertical faces are left out (they cover no area); tiny gaps between parts are closed with a 1 cm buffer.
    The union of thousands of triangles takes a while (0.4 s for the FZK-Haus) and does not depend on the
    placement, so it is kept on the design (and travels with it into the incremental-build cache).
    """
    cached = design.__dict__.get("_footprint")
    if cached is not None:
        return cached
    result = _footprint(design)
    design.__dict__["_footprint"] = result  # frozen dataclass: memoise beside the fields, like cached_property
    return result


def footprint_centre(design: Design) -> tuple[float, float]:
    """The centre of the design's footprint in local metres: the centroid of :func:`footprint` (the middle of
    its bounds for a design without one). What an anchor with ``point = "centre"`` puts at its position."""
    shape = footprint(design)
    if shape.is_empty or shape.area <= 0:
        lo, hi = design.bounds
        return float(lo[0] + hi[0]) / 2.0, float(lo[1] + hi[1]) / 2.0
    c = shape.centroid
    return float(c.x), float(c.y)


#: Vertices a drawn footprint outline keeps at most (the upload info, the placement report).
MAX_OUTLINE_POINTS = 2000


def footprint_rings(design: Design, tolerance: float = 0.05) -> list[list[tuple[float, float]]]:
    """The footprint's outer rings in local metres, simplified to ``tolerance`` (and coarser until at most
    :data:`MAX_OUTLINE_POINTS` vertices remain): what a map draws of the design."""
    shape = footprint(design)
    if shape.is_empty:
        return []
    while True:
        simple = shape.simplify(tolerance, preserve_topology=True)
        polys = list(simple.geoms) if isinstance(simple, MultiPolygon) else [simple]
        rings = [list(p.exterior.coords) for p in polys if isinstance(p, Polygon) and not p.is_empty]
        if sum(len(r) for r in rings) <= MAX_OUTLINE_POINTS:
            return [[(round(float(x), 3), round(float(y), 3)) for x, y, *_ in r] for r in rings]
        tolerance *= 2


def _footprint(design: Design) -> Polygon | MultiPolygon:
    tris = []
    for mesh in design.meshes().values():
        v = mesh.vertices[mesh.faces][:, :, :2]
        cross = (v[:, 1, 0] - v[:, 0, 0]) * (v[:, 2, 1] - v[:, 0, 1]) - (v[:, 1, 1] - v[:, 0, 1]) * (
            v[:, 2, 0] - v[:, 0, 0]
        )
        tris.append(v[np.abs(cross) > 1e-8])
    pts = np.concatenate(tris) if tris else np.zeros((0, 3, 2))
    if len(pts) == 0:
        return Polygon()
    polys = shapely.polygons(np.concatenate([pts, pts[:, :1]], axis=1))
    merged = shapely.union_all(shapely.buffer(polys, 0.01, join_style="mitre")).buffer(-0.01, join_style="mitre")
    return merged if isinstance(merged, Polygon | MultiPolygon) else Polygon()


def _heightfield_volume(design: Design, cells: int = 120, block: int = 12) -> float:
    """Volume under the design's highest surface above its lowest point, on a grid of cell centres.

    This is the gross (enclosed) volume of a building whose parts are walls and slabs rather than one
    closed shell. Each cell takes the highest triangle above its centre. The grid is walked in blocks of
    ``block`` x ``block`` cells, each against only the triangles whose bounding box touches it.
    """
    lo, hi = design.bounds
    size = max(float(max(hi[0] - lo[0], hi[1] - lo[1])) / cells, 0.05)
    xs = np.arange(lo[0] + size / 2, hi[0], size)
    ys = np.arange(lo[1] + size / 2, hi[1], size)
    tris = np.concatenate([m.vertices[m.faces] for m in design.meshes().values()])
    a, b, c = tris[:, 0], tris[:, 1], tris[:, 2]
    det = (b[:, 1] - c[:, 1]) * (a[:, 0] - c[:, 0]) + (c[:, 0] - b[:, 0]) * (a[:, 1] - c[:, 1])
    keep = np.abs(det) > 1e-10
    a, b, c, det = a[keep], b[keep], c[keep], det[keep]
    tmin = np.minimum(np.minimum(a, b), c)[:, :2]
    tmax = np.maximum(np.maximum(a, b), c)[:, :2]
    total = 0.0
    for i in range(0, len(xs), block):
        for j in range(0, len(ys), block):
            bx, by = xs[i : i + block], ys[j : j + block]
            near = (tmax[:, 0] >= bx[0]) & (tmin[:, 0] <= bx[-1]) & (tmax[:, 1] >= by[0]) & (tmin[:, 1] <= by[-1])
            if not near.any():
                continue
            gx, gy = np.meshgrid(bx, by, indexing="ij")
            p = np.column_stack([gx.ravel(), gy.ravel()])
            sa, sb, sc, sd = a[near], b[near], c[near], det[near]
            dx = p[None, :, 0] - sc[:, None, 0]
            dy = p[None, :, 1] - sc[:, None, 1]
            w1 = ((sb[:, None, 1] - sc[:, None, 1]) * dx + (sc[:, None, 0] - sb[:, None, 0]) * dy) / sd[:, None]
            w2 = ((sc[:, None, 1] - sa[:, None, 1]) * dx + (sa[:, None, 0] - sc[:, None, 0]) * dy) / sd[:, None]
            w3 = 1.0 - w1 - w2
            inside = (w1 >= 0) & (w2 >= 0) & (w3 >= 0)
            z = w1 * sa[:, None, 2] + w2 * sb[:, None, 2] + w3 * sc[:, None, 2]
            top = np.where(inside, z, -np.inf).max(axis=0)
            covered = np.isfinite(top)
            total += float(np.sum(top[covered] - lo[2]))
    return total * size * size


#: ``gfa_source`` for each :attr:`Design.space_area_source`.
SPACE_SOURCES = {
    "quantities": "ifc_spaces",
    "geometry": "ifc_space_geometry",
    "geometry+quantities": "ifc_spaces+geometry",
}


def metrics(design: Design, placement: Placement | None = None) -> dict[str, Any]:
    """Footprint area (m²), height (m), volume (m³), storeys and gross floor area (m²) of a design.

    volume : the merged mesh's volume when it is one closed (watertight) shell (``volume_source`` =
        ``"mesh"``); otherwise the volume under its highest surface (``"heightfield"``), which is what a
        building's gross volume means when its parts are walls and slabs
    gross_floor_area : IFC storey quantities (``gfa_source`` = ``"ifc_storeys"``), else IfcSpace areas from
        their quantity sets (``"ifc_spaces"``), from their volumes seen from above (``"ifc_space_geometry"``)
        or both (``"ifc_spaces+geometry"``), else footprint × storeys (``"estimate"``); storeys partly measured
        by their own quantities and partly by their spaces give ``"ifc_storeys+<the spaces' source>"``
    Each metric says where it came from: ``footprint_area_source`` and ``height_source`` are ``"mesh"``.
    With a placement: the anchor scale applies, and ``base_z``/``top_z`` give the working heights.
    """
    import trimesh

    scale = float(placement.matrix[2, 2]) if placement is not None else 1.0
    lo, hi = design.bounds
    height = float(hi[2] - lo[2]) * scale
    area = float(footprint(design).area) * scale * scale
    merged = trimesh.util.concatenate([trimesh.Trimesh(m.vertices, m.faces) for m in design.meshes().values()])
    if isinstance(merged, trimesh.Trimesh):
        # Files split vertices per face for normals and UVs; closedness is about positions only.
        merged.merge_vertices(merge_tex=True, merge_norm=True)
    if isinstance(merged, trimesh.Trimesh) and merged.is_watertight and merged.volume > 0:
        volume, volume_source = float(merged.volume) * scale**3, "mesh"
    else:
        volume, volume_source = _heightfield_volume(design) * scale**3, "heightfield"
    if design.storeys:
        storeys, storeys_source = len(design.storeys), "ifc"
    else:
        storeys, storeys_source = max(1, round(height / LEVEL_HEIGHT)), "estimate"
    storey_areas = [s.gross_floor_area for s in design.storeys]
    storey_sources = {s.area_source for s in design.storeys}
    space_source = SPACE_SOURCES.get(design.space_area_source, "ifc_spaces")
    # Storeys that sum their spaces name the spaces' source; only their own quantities are "ifc_storeys".
    if storey_areas and all(a is not None for a in storey_areas) and "quantities" in storey_sources:
        gfa = float(sum(a for a in storey_areas if a is not None)) * scale**2
        gfa_source = "ifc_storeys" if storey_sources == {"quantities"} else f"ifc_storeys+{space_source}"
    elif design.space_area is not None:
        gfa, gfa_source = design.space_area * scale**2, space_source
    else:
        gfa, gfa_source = area * storeys, "estimate"
    out: dict[str, Any] = {
        "footprint_area": round(area, 2),
        "footprint_area_source": "mesh",
        "height": round(height, 3),
        "height_source": "mesh",
        "volume": round(volume, 1),
        "volume_source": volume_source,
        "storeys": storeys,
        "storeys_source": storeys_source,
        "gross_floor_area": round(gfa, 1),
        "gfa_source": gfa_source,
        "parts": len(design.parts),
        "triangles": design.triangle_count,
    }
    if placement is not None:
        z = placement.apply(np.array([[0.0, 0.0, lo[2]], [0.0, 0.0, hi[2]]]))[:, 2]
        out["base_z"], out["top_z"] = round(float(z[0]), 3), round(float(z[1]), 3)
    return out


def building_metrics(building: Building, level_height: float = LEVEL_HEIGHT) -> dict[str, float]:
    """Footprint area, height, volume = area × (height − base) and GFA = area × levels of one building.

    Surface models (CityGML) measure their height from their surfaces' z range. Levels come from the
    ``levels`` property, else from the height at ``level_height`` per storey.
    """
    area = float(building.footprint.area) if building.footprint is not None else 0.0
    if building.surfaces:
        zs = np.concatenate([s.exterior[:, 2] for s in building.surfaces])
        tall = float(zs.max() - zs.min())
    else:
        tall = max(float(building.height or 0.0) - float(building.base), 0.0)
    levels = building.properties.get("levels")
    if not isinstance(levels, int | float) or levels <= 0:
        levels = max(1, round(tall / level_height)) if tall > 0 else 0
    return {"footprint_area": area, "height": tall, "volume": area * tall, "gross_floor_area": area * levels}


def metrics_delta(design_metrics: dict[str, Any], removed_buildings: Iterable[Building]) -> dict[str, Any]:
    """Compare a design (or the sum of a variant's designs) with the existing buildings it replaces.

    returns ``{"removed": {count, footprint_area, height (max), volume, gross_floor_area},
    "delta": {footprint_area, height, volume, gross_floor_area}}``; a delta is design minus removed.
    """
    removed = [building_metrics(b) for b in removed_buildings]
    totals = {
        "count": len(removed),
        "footprint_area": round(sum(r["footprint_area"] for r in removed), 2),
        "height": round(max((r["height"] for r in removed), default=0.0), 3),
        "volume": round(sum(r["volume"] for r in removed), 1),
        "gross_floor_area": round(sum(r["gross_floor_area"] for r in removed), 1),
    }
    delta = {
        key: round(float(design_metrics.get(key, 0.0)) - float(totals[key]), 3)
        for key in ("footprint_area", "height", "volume", "gross_floor_area")
    }
    return {"removed": totals, "delta": delta}
