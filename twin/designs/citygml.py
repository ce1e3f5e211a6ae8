"""A CityGML building (LoD1–LoD3 surfaces) as a design.

CityGML is already georeferenced: its coordinates are map coordinates with normal heights. The design's
local frame is put at the centre of its ground plan, at its lowest point, and the offset becomes the
design's own georeference (the ``map_conversion`` route, without rotation), so :func:`place` puts it back
exactly where the file says unless the planner gives an anchor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import trimesh
from trimesh.visual.material import PBRMaterial

from twin.errors import DesignError, TwinError
from twin.mesh.model import PITCHED_ROOF_COLOR, WALL_COLOR
from twin.mesh.triangulate import triangulate_planar
from twin.read.citygml import read_citygml
from twin.records import Building, ReaderOptions
from twin.report import Report

from .base import Loader, RawDesign
from .model import FileGeoref


def _material(name: str, rgb: tuple[int, int, int]) -> PBRMaterial:
    return PBRMaterial(
        name=name,
        baseColorFactor=np.array([*rgb, 255], dtype=np.uint8),
        metallicFactor=0.0,
        roughnessFactor=0.9,
        doubleSided=True,
    )


def _mesh(building: Building, kinds: tuple[str, ...], offset: np.ndarray) -> trimesh.Trimesh | None:
    verts, faces, n = [], [], 0
    for surface in building.surfaces:
        if (surface.kind == "roof") != ("roof" in kinds):
            continue
        v, t = triangulate_planar(surface.exterior - offset, tuple(h - offset for h in surface.holes))
        if len(t):
            verts.append(v)
            faces.append(np.asarray(t, dtype=np.int64) + n)
            n += len(v)
    if not verts:
        return None
    return trimesh.Trimesh(np.concatenate(verts), np.concatenate(faces), process=False)


def read_citygml_design(path: Path) -> RawDesign:
    """Every CityGML building (part) of the file becomes one or two parts: walls/ground and roof."""
    report = Report()
    try:
        buildings = [b for b in read_citygml(path, options=ReaderOptions(), report=report) if b.surfaces]
    except TwinError as exc:
        raise DesignError(f"{path.name}: unreadable CityGML: {exc}") from exc
    if not buildings:
        raise DesignError(f"{path.name}: no CityGML building with surfaces")
    crs = buildings[0].crs
    if any(b.crs != crs for b in buildings):
        raise DesignError(f"{path.name}: buildings in more than one CRS")
    points = np.concatenate([s.exterior for b in buildings for s in b.surfaces])
    if not np.all(np.isfinite(points)):
        raise DesignError(f"{path.name}: NaN or infinite coordinates")
    lo, hi = points.min(axis=0), points.max(axis=0)
    offset = np.array([(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0, lo[2]])
    wall, roof = _material("wall", WALL_COLOR), _material("roof", PITCHED_ROOF_COLOR)
    scene = trimesh.Scene()
    parts: dict[str, dict[str, Any]] = {}
    for b in buildings:
        meta = {
            "id": b.id,
            "name": str(b.properties.get("name", "") or ""),
            "usage": str(b.properties.get("usage", "") or ""),
            "storey": "",
        }
        for kinds, material, suffix in ((("roof",), roof, "#roof"), (("wall", "ground"), wall, "")):
            mesh = _mesh(b, kinds, offset)
            if mesh is None:
                continue
            mesh.visual = trimesh.visual.TextureVisuals(material=material)
            node = f"{b.id}{suffix}"
            scene.add_geometry(mesh, node_name=node, geom_name=node)
            parts[node] = dict(meta)
    georef = FileGeoref(
        route="map_conversion",
        crs=crs,
        easting=float(offset[0]),
        northing=float(offset[1]),
        height=float(offset[2]),
        x_axis=(1.0, 0.0),
        scale=1.0,
        notes=("CityGML coordinates taken as the design's map position; heights as normal heights",),
    )
    return RawDesign(scene=scene, parts=parts, up_axis="Z", unit_scale=1.0, units_fixed=True, georef=georef)


#: The formats this module reads (merged by :mod:`twin.designs.load`).
LOADERS: dict[str, Loader] = {"citygml": read_citygml_design}
