"""IFC designs (IFC2X3, IFC4, IFC4X3; plain or ifcZIP) through IfcOpenShell: tessellated products with their
metadata, storeys, space areas, and the file's own georeference (IfcMapConversion/IfcProjectedCRS or IfcSite
RefLatitude/…).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.geom
import ifcopenshell.util.element
import ifcopenshell.util.placement
import ifcopenshell.util.unit
import numpy as np
import trimesh
from trimesh.visual.material import PBRMaterial

from twin.errors import DesignError

from .base import Loader, RawDesign
from .ifczip import unzipped
from .model import FileGeoref, Storey

#: Spatial elements, never geometry: spaces, external spatial elements (a "Facade" volume wrapping the
#: building would hide its windows and z-fight with the roof) and spatial zones are invisible volumes,
#: openings are subtracted already.
SPATIAL = ("IfcSpace", "IfcExternalSpatialElement", "IfcSpatialZone", "IfcOpeningElement")
#: Classes not drawn: the spatial elements, and the site, whose own geometry is terrain, which the scene
#: already has (and which would hide the streets around the plot).
EXCLUDE = (*SPATIAL, "IfcSite", "IfcAnnotation", "IfcGrid")
#: Quantity names of a floor area, best first.
AREA_QUANTITIES = ("GrossFloorArea", "NetFloorArea")


def read_ifc(path: Path, label: str | None = None) -> RawDesign:
    """Tessellate every product of an IFC file in world coordinates (metres, Z up, the project's frame).

    Each product becomes one mesh per surface style (so materials survive), named ``"<GlobalId>"`` or
    ``"<GlobalId>#<k>"``; every mesh keeps its product's GlobalId, class, name and storey.
    label : the name errors give the file (default: its file name)
    """
    label = label or path.name
    try:
        f = ifcopenshell.open(str(path), format=".ifc")
    except Exception as exc:  # IfcOpenShell raises its own and plain errors on broken STEP
        raise DesignError(f"{label}: unreadable IFC: {exc}") from exc
    settings = ifcopenshell.geom.settings()
    # World coordinates: every product placed in the project frame, in metres (IfcOpenShell converts units).
    settings.set("use-world-coords", True)
    scene = trimesh.Scene()
    parts: dict[str, dict[str, Any]] = {}
    materials: dict[tuple[float, ...], PBRMaterial] = {}
    try:
        iterator = ifcopenshell.geom.iterator(settings, f, 1, exclude=_known(f, EXCLUDE))
        ok = bool(iterator.initialize())
    except Exception as exc:
        raise DesignError(f"{label}: IFC geometry cannot be processed: {exc}") from exc
    while ok:
        shape = iterator.get()
        _add_shape(f, shape, scene, parts, materials)
        ok = bool(iterator.next())
    unit = float(ifcopenshell.util.unit.calculate_unit_scale(f))
    storeys, space_area, space_source = _storeys(f, unit, settings)
    return RawDesign(
        scene=scene,
        parts=parts,
        up_axis="Z",
        unit_scale=1.0,  # IfcOpenShell already wrote metres
        units_fixed=True,
        georef=georef_of(f, unit),
        storeys=storeys,
        space_area=space_area,
        space_area_source=space_source,
    )


def _known(f: ifcopenshell.file, classes: tuple[str, ...]) -> list[str]:
    """The classes of ``classes`` that the file's schema has (IFC2X3 lacks IfcExternalSpatialElement)."""
    schema = ifcopenshell.ifcopenshell_wrapper.schema_by_name(f.schema)
    known = []
    for name in classes:
        try:
            schema.declaration_by_name(name)
        except (RuntimeError, IndexError, KeyError):
            continue
        known.append(name)
    return known


def read_ifczip(path: Path) -> RawDesign:
    """Read the one IFC file of an ifcZIP archive (unpacked to a temporary file under a size limit)."""
    with unzipped(path) as ifc:
        return read_ifc(ifc, label=path.name)


def _add_shape(
    f: ifcopenshell.file,
    shape: Any,
    scene: trimesh.Scene,
    parts: dict[str, dict[str, Any]],
    materials: dict[tuple[float, ...], PBRMaterial],
) -> None:
    geom = shape.geometry
    vertices = np.asarray(geom.verts, dtype=np.float64).reshape(-1, 3)
    faces = np.asarray(geom.faces, dtype=np.int64).reshape(-1, 3)
    if len(faces) == 0:
        return
    product = f.by_id(shape.id)
    if any(product.is_a(c) for c in SPATIAL):  # whatever the iterator's filter let through
        return
    container = ifcopenshell.util.element.get_container(product)
    meta = {
        "id": str(shape.guid),
        "name": str(shape.name or ""),
        "usage": str(shape.type),
        "storey": str(getattr(container, "Name", "") or "") if container is not None else "",
    }
    material_ids = np.asarray(geom.material_ids, dtype=np.int64)
    styles = list(geom.materials)
    if len(material_ids) != len(faces) or not styles:
        material_ids = np.full(len(faces), -1)
    for k, mid in enumerate(np.unique(material_ids)):
        sel = faces[material_ids == mid]
        used, inverse = np.unique(sel, return_inverse=True)
        mesh = trimesh.Trimesh(vertices[used], inverse.reshape(-1, 3), process=False)
        style = styles[mid] if 0 <= mid < len(styles) else None
        mesh.visual = trimesh.visual.TextureVisuals(material=_material(style, materials))
        node = meta["id"] if k == 0 else f"{meta['id']}#{k}"
        scene.add_geometry(mesh, node_name=node, geom_name=node)
        parts[node] = dict(meta)


def _material(style: Any, cache: dict[tuple[float, ...], PBRMaterial]) -> PBRMaterial:
    """A glTF PBR material from an IFC surface style (diffuse colour and transparency), shared by colour."""
    rgba = (0.8, 0.8, 0.8, 1.0)
    if style is not None:
        try:
            r, g, b = (float(c) for c in style.diffuse.components)
            t = float(style.transparency)
            alpha = 1.0 - t if math.isfinite(t) else 1.0
            rgba = (r, g, b, min(max(alpha, 0.05), 1.0))
        except Exception:  # styles without a diffuse colour keep the default grey
            pass
    key = tuple(round(c, 4) for c in rgba)
    if key not in cache:
        cache[key] = PBRMaterial(
            name=f"ifc-{len(cache)}",
            baseColorFactor=np.array([round(c * 255) for c in key], dtype=np.uint8),
            metallicFactor=0.0,
            roughnessFactor=0.9,
            alphaMode="BLEND" if key[3] < 1.0 else "OPAQUE",
            doubleSided=True,
        )
    return cache[key]


def _quantity(element: Any, names: tuple[str, ...]) -> float | None:
    """The first of ``names`` in the element's quantity sets, standard sets (``Qto_*BaseQuantities``,
    ``BaseQuantities``) before vendors' own (e.g. ``ArchiCADQuantities``)."""
    qsets = ifcopenshell.util.element.get_psets(element, qtos_only=True)
    ordered = sorted(qsets.items(), key=lambda kv: not kv[0].endswith("BaseQuantities"))
    for name in names:
        for _, qset in ordered:
            value = qset.get(name)
            if isinstance(value, int | float) and math.isfinite(value) and value > 0:
                return float(value)
    return None


def _plan_areas(f: ifcopenshell.file, settings: Any, spaces: list[Any]) -> dict[int, float]:
    """Space id → the area of its volume seen from above (m²), for spaces whose file gives no quantity."""
    import shapely

    if not spaces:
        return {}
    areas: dict[int, float] = {}
    try:
        iterator = ifcopenshell.geom.iterator(settings, f, 1, include=spaces)
        ok = bool(iterator.initialize())
    except Exception:  # spaces without a usable body simply have no geometric area
        return {}
    while ok:
        shape = iterator.get()
        v = np.asarray(shape.geometry.verts, dtype=np.float64).reshape(-1, 3)
        faces = np.asarray(shape.geometry.faces, dtype=np.int64).reshape(-1, 3)
        if len(faces):
            tris = shapely.polygons(v[faces][:, :, :2])
            tris = tris[shapely.area(tris) > 1e-9]  # walls of the volume are edges from above
            if len(tris):
                areas[int(shape.id)] = float(shapely.union_all(tris).area)
        ok = bool(iterator.next())
    return areas


def _storeys(f: ifcopenshell.file, unit: float, settings: Any) -> tuple[tuple[Storey, ...], float | None, str]:
    """Storeys (lowest first) with their gross floor area, the total IfcSpace area and where it came from.

    A space's area comes from its quantity sets, else from its volume seen from above; a storey's area from
    its own quantities, else from the sum of its spaces. A storey elevation left unset (``$``) is taken
    from the storey's placement. The source is ``"quantities"``, ``"geometry"``, both joined by ``"+"``,
    or ``""`` without spaces.
    """
    space_total = 0.0
    per_storey: dict[int, float] = {}
    spaces = f.by_type("IfcSpace")
    quantities = {space.id(): _quantity(space, AREA_QUANTITIES) for space in spaces}
    geometric = _plan_areas(f, settings, [s for s in spaces if quantities[s.id()] is None])
    sources = set()
    for space in spaces:
        area = quantities[space.id()]
        if area is not None:
            sources.add("quantities")
        elif space.id() in geometric:
            area = geometric[space.id()]
            sources.add("geometry")
        else:
            continue
        space_total += area
        container = ifcopenshell.util.element.get_aggregate(space) or ifcopenshell.util.element.get_container(space)
        if container is not None:
            per_storey[container.id()] = per_storey.get(container.id(), 0.0) + area
    storeys = []
    for st in f.by_type("IfcBuildingStorey"):
        area, area_source = _quantity(st, AREA_QUANTITIES), "quantities"
        if area is None:
            area, area_source = per_storey.get(st.id()), "spaces"
        storeys.append(Storey(str(st.Name or ""), _elevation(st, unit), area, area_source if area else ""))
    storeys.sort(key=lambda s: s.elevation)
    source = "+".join(sorted(sources))
    return tuple(storeys), (space_total if space_total > 0 else None), source


def _elevation(storey: Any, unit: float) -> float:
    """A storey's elevation in metres: its ``Elevation``, else the height of its placement in the project."""
    if storey.Elevation is not None:
        return float(storey.Elevation) * unit
    if storey.ObjectPlacement is not None:
        try:
            return float(ifcopenshell.util.placement.get_local_placement(storey.ObjectPlacement)[2, 3]) * unit
        except Exception:  # a broken placement chain leaves the storey at 0, as before
            pass
    return 0.0


def _dms(value: Any) -> float | None:
    """IFC compound plane angle (degrees, minutes, seconds[, millionths]) → decimal degrees."""
    if not value:
        return None
    parts = [float(v) for v in value] + [0.0] * (4 - len(value))
    sign = -1.0 if any(p < 0 for p in parts) else 1.0
    d, m, s, u = (abs(p) for p in parts[:4])
    return sign * (d + m / 60.0 + (s + u / 1e6) / 3600.0)


def georef_of(f: ifcopenshell.file, unit: float) -> FileGeoref | None:
    """The file's own georeference, in the issue's order: IfcMapConversion (IFC2X3: ePSet_MapConversion with
    ePSet_ProjectedCRS), else IfcSite RefLatitude/…, unless that is lat/lon 0,0 (the exporters' default for
    "not georeferenced", in the Gulf of Guinea)."""
    if f.schema != "IFC2X3":
        for conv in f.by_type("IfcMapConversion"):
            ref = _map_conversion(conv, unit)
            if ref is not None:
                return ref
    else:
        ref = _epset_map_conversion(f, unit)
        if ref is not None:
            return ref
    sites = f.by_type("IfcSite")
    for site in sites:
        lat, lon = _dms(site.RefLatitude), _dms(site.RefLongitude)
        if lat is None or lon is None or (abs(lat) < 1e-9 and abs(lon) < 1e-9):
            continue
        height = float(site.RefElevation) * unit if site.RefElevation is not None else 0.0
        return FileGeoref(route="site", lon=lon, lat=lat, height=height, true_north=_true_north(f))
    return None


#: Metres per map unit named in ePSet_ProjectedCRS.MapUnit.
MAP_UNITS = {"METRE": 1.0, "MILLIMETRE": 0.001, "CENTIMETRE": 0.01, "KILOMETRE": 1000.0, "FOOT": 0.3048}


def _epset_map_conversion(f: ifcopenshell.file, unit: float) -> FileGeoref | None:
    """IFC2X3's IfcMapConversion: the ``ePSet_MapConversion`` and ``ePSet_ProjectedCRS`` property sets of
    the IfcSite or IfcProject (buildingSMART's georeferencing guide for IFC2X3; names in any case)."""
    for holder in [*f.by_type("IfcSite"), *f.by_type("IfcProject")]:
        psets = {k.lower(): v for k, v in ifcopenshell.util.element.get_psets(holder, psets_only=True).items()}
        conv, crs = psets.get("epset_mapconversion"), psets.get("epset_projectedcrs")
        if conv is None or crs is None or not crs.get("Name"):
            continue
        try:
            east, north = float(conv["Eastings"]), float(conv["Northings"])
        except (KeyError, TypeError, ValueError):
            continue
        notes: list[str] = []
        # MapUnit is a label here ("METRE", "MILLIMETRE", "FOOT"); without one, the project's length unit.
        map_unit = MAP_UNITS.get(str(crs.get("MapUnit", "")).upper().replace("METER", "METRE"), unit)
        file_scale = conv.get("Scale")
        scale = float(file_scale) * map_unit / unit if isinstance(file_scale, int | float) else 1.0
        if not 0.5 < scale < 2.0:
            notes.append(f"ePSet_MapConversion.Scale {file_scale} taken as 1 (does not match the project's units)")
            scale = 1.0
        x_axis = None
        if isinstance(conv.get("XAxisAbscissa"), int | float) and isinstance(conv.get("XAxisOrdinate"), int | float):
            x_axis = (float(conv["XAxisAbscissa"]), float(conv["XAxisOrdinate"]))
        height = conv.get("OrthogonalHeight")
        return FileGeoref(
            route="map_conversion",
            crs=_crs_name(str(crs["Name"])),
            easting=east * map_unit,
            northing=north * map_unit,
            height=float(height) * map_unit if isinstance(height, int | float) else 0.0,
            x_axis=x_axis,
            scale=scale,
            notes=(*notes, "georeferenced by IFC2X3 ePSet_MapConversion"),
        )
    return None


def _true_north(f: ifcopenshell.file) -> tuple[float, float] | None:
    for ctx in f.by_type("IfcGeometricRepresentationContext"):
        if ctx.is_a("IfcGeometricRepresentationSubContext") or ctx.ContextType not in ("Model", None):
            continue
        tn = ctx.TrueNorth
        if tn is not None and tn.DirectionRatios and len(tn.DirectionRatios) >= 2:
            x, y = (float(v) for v in tn.DirectionRatios[:2])
            if math.hypot(x, y) > 0:
                return (x, y)
    return None


def _map_conversion(conv: Any, unit: float) -> FileGeoref | None:
    """Read an IfcMapConversion to metres.

    IFC4 says ``Scale`` converts project length units to map units (so 0.001 for a millimetre project on a
    metre map). Files often give ``Scale`` = 1 there anyway; a resulting scale far from 1 is taken as that
    mistake and replaced by 1 (noted in the placement report). Without ``MapUnit`` the map coordinates are
    in the project's length unit. IFC2X3 files carry it as property sets (:func:`_epset_map_conversion`).
    """
    target = conv.TargetCRS
    if target is None or not target.is_a("IfcProjectedCRS") or not target.Name:
        return None
    # Without a MapUnit the map coordinates are in the project's length unit (as IfcOpenShell reads them).
    map_unit = unit
    if getattr(target, "MapUnit", None) is not None:
        map_unit = _si(target.MapUnit)
    notes: list[str] = []
    file_scale = float(conv.Scale) if conv.Scale is not None else None
    # Map metres per local metre.
    scale = 1.0 if file_scale is None else file_scale * map_unit / unit
    if not 0.5 < scale < 2.0:
        notes.append(f"IfcMapConversion.Scale {file_scale} taken as 1 (does not match the project's units)")
        scale = 1.0
    x_axis = None
    if conv.XAxisAbscissa is not None and conv.XAxisOrdinate is not None:
        x_axis = (float(conv.XAxisAbscissa), float(conv.XAxisOrdinate))
    return FileGeoref(
        route="map_conversion",
        crs=_crs_name(str(target.Name)),
        easting=float(conv.Eastings) * map_unit,
        northing=float(conv.Northings) * map_unit,
        height=float(conv.OrthogonalHeight) * map_unit,
        x_axis=x_axis,
        scale=scale,
        notes=tuple(notes),
    )


def _si(unit_entity: Any) -> float:
    """Metres per map unit of an IfcNamedUnit (SI with prefix, or a conversion-based unit such as foot)."""
    if unit_entity.is_a("IfcSIUnit"):
        return float(ifcopenshell.util.unit.get_prefix_multiplier(unit_entity.Prefix))
    factor = getattr(unit_entity, "ConversionFactor", None)
    if factor is not None:
        return float(factor.ValueComponent.wrappedValue) * _si(factor.UnitComponent)
    return 1.0


def _crs_name(name: str) -> str:
    """``"EPSG:25832"`` from the names files use: ``"EPSG:25832"``, ``"epsg 25832"``, ``"25832"``."""
    digits = "".join(ch for ch in name if ch.isdigit())
    if name.strip().isdigit() or (name.upper().startswith("EPSG") and digits):
        return f"EPSG:{digits}"
    return name


#: The formats this module reads (merged by :mod:`twin.designs.load`).
LOADERS: dict[str, Loader] = {"ifc": read_ifc, "ifczip": read_ifczip}
