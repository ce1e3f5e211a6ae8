"""CityGML 1.0 / 2.0 / 3.0 buildings → :class:`twin.records.Building`, streamed.

The file is read with ``lxml.etree.iterparse`` and handled one top-level ``Building`` at a time: at its end
event the whole building (with its ``BuildingPart`` children) is in memory, so ``xlink:href`` references
between its polygons resolve inside it; afterwards the element and everything before it is deleted, so
memory stays at about one building whatever the file size.

Each Building and each BuildingPart with geometry becomes one record (parts carry ``parent`` = the
building's ``gml:id``; a building whose geometry is all in its parts yields only the parts). Of the LoD1-4
geometry present (``lodNSolid``, ``lodNMultiSurface``, thematic boundary surfaces, ...) the highest LoD
wins, and a polygon reached twice (a solid referencing the boundary surfaces by xlink) is drawn once.
A gzipped file (``.gml.gz``) streams through gzip into the parser, within :mod:`twin.read.limits`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from lxml import etree
from shapely.geometry import MultiPolygon, Polygon

from twin.errors import CRSError, SourceError, UnsupportedFormat
from twin.read.gmlcrs import is_lat_lon, parse_srs_name
from twin.read.limits import SourceLimits, open_source
from twin.records import Building, ReaderOptions, Roof, Surface
from twin.report import Report

VERSIONS = ("1.0", "2.0", "3.0")
_GML_NS = ("http://www.opengis.net/gml", "http://www.opengis.net/gml/3.2")
_CORE_NS = tuple(f"http://www.opengis.net/citygml/{v}" for v in VERSIONS)
_BLDG_NS = tuple(f"http://www.opengis.net/citygml/building/{v}" for v in VERSIONS)
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

_BUILDING_TAGS = tuple(f"{{{ns}}}Building" for ns in _BLDG_NS)
_PART_TAGS = tuple(f"{{{ns}}}BuildingPart" for ns in _BLDG_NS)
_MEMBER_TAGS = tuple(f"{{{ns}}}cityObjectMember" for ns in _CORE_NS)
_ENVELOPE_TAGS = tuple(f"{{{ns}}}Envelope" for ns in _GML_NS)

#: Geometry properties drawn as surfaces; the number is the LoD. LoD0 (footprints, roof edges) is 2.5D.
_GEOMETRY_PROPERTY = re.compile(r"lod([1-4])(?:Solid|MultiSurface|CompositeSurface|Geometry)$")
#: Children never searched for exterior geometry: other features, interiors, non-geometric data.
_NOT_EXTERIOR = frozenset(
    {
        "consistsOfBuildingPart",
        "buildingPart",
        "interiorRoom",
        "interiorBuildingInstallation",
        "interiorFurniture",
        "buildingRoom",
        "buildingFurniture",
        "address",
        "appearance",
        "externalReference",
    }
)
#: Thematic surfaces and what kind of Surface their polygons become; openings and installations say "".
_SURFACE_KINDS = {
    "RoofSurface": "roof",
    "WallSurface": "wall",
    "GroundSurface": "ground",
    "ClosureSurface": "closure",
    "OuterCeilingSurface": "",
    "OuterFloorSurface": "",
    "Window": "",
    "Door": "",
    "BuildingInstallation": "",
}
_POLYGON_TAGS = frozenset({"Polygon", "Triangle", "Rectangle", "PolygonPatch"})
_FEATURE_TAGS = frozenset({"Building", "BuildingPart"})

#: roofType codes → Roof.shape. AdV (GeoInfoDok, ALKIS "Dachform") codes and the SIG3D code list of
#: CityGML 2.0 share 1000 = flat. AdV 3500 is Zeltdach (pyramidal); 5000 is Mischform (mixed), kept as code.
ROOF_TYPE_SHAPES = {
    "1000": "flat",
    "2100": "skillion",  # Pultdach
    "3100": "gabled",  # Satteldach
    "3200": "hipped",  # Walmdach
    "3300": "hipped",  # Krüppelwalmdach (half-hipped)
    "3500": "pyramidal",  # Zeltdach
    "1010": "skillion",  # SIG3D monopitch
    "1030": "gabled",  # SIG3D gabled
    "1040": "hipped",  # SIG3D hipped
    "1050": "hipped",  # SIG3D half-hipped
    "1070": "pyramidal",  # SIG3D pavilion
}


def _local(el: Any) -> str:
    """Local name of an element's tag ("" for comments and processing instructions)."""
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _gml_id(el: Any) -> str | None:
    return el.get("{http://www.opengis.net/gml}id") or el.get("{http://www.opengis.net/gml/3.2}id")


_ID_ATTRIBUTES = etree.XPath(
    "descendant-or-self::*/@*[local-name()='id' and (namespace-uri()='http://www.opengis.net/gml'"
    " or namespace-uri()='http://www.opengis.net/gml/3.2')]"
)
_SRS_ELEMENTS = etree.XPath("descendant::*[@srsName]")


@dataclass
class _File:
    """What one read needs across buildings: where it is, the file-level CRS, counters."""

    path: Path
    source: str
    options: ReaderOptions
    report: Report
    srs_name: str | None = None
    srs_dimension: int = 3
    count: int = 0
    crs_cache: dict[str, tuple[str, bool]] = field(default_factory=dict)

    def crs(self, srs_name: str | None, building_id: str) -> tuple[str, bool]:
        """(pyproj CRS string, swap lat/lon) for a building whose nearest srsName is ``srs_name``."""
        if self.options.crs is not None:
            return self.options.crs, False
        srs_name = srs_name or self.srs_name
        if srs_name is None:
            raise SourceError(
                f"{self.path}: no srsName on the file's Envelope or on building {building_id!r}; "
                "give the source's CRS in the scene manifest (crs = ...)"
            )
        if srs_name not in self.crs_cache:
            try:
                self.crs_cache[srs_name] = (parse_srs_name(srs_name), is_lat_lon(srs_name))
            except CRSError as exc:
                raise SourceError(f"{self.path}: building {building_id!r}: {exc}") from exc
        return self.crs_cache[srs_name]


def read_citygml(
    path: str | os.PathLike[str], *, options: ReaderOptions, report: Report, source: str = ""
) -> Iterator[Building]:
    """Yield one :class:`Building` per CityGML Building / BuildingPart with LoD1-4 geometry, streaming.

    Records are in the file's CRS (``srsName`` of the geometry, of the building's Envelope or of the file's
    Envelope, the nearest wins; ``options.crs`` overrides). Raises :class:`twin.errors.SourceError` for a
    file that is missing, not XML, not CityGML, truncated (after yielding the buildings before the break)
    or without any CRS; broken polygons and buildings go to ``report``.
    """
    file = _File(Path(path), source or Path(path).name, options, report)
    if options.crs is not None:
        try:
            pyproj.CRS(options.crs)
        except pyproj.exceptions.CRSError as exc:
            raise CRSError(f"crs {options.crs!r} given for {file.path} is unknown to pyproj") from exc
    limits = SourceLimits.of(options.limits)
    _check_citygml(file.path, limits)
    tags = (*_BUILDING_TAGS, *_MEMBER_TAGS, *_ENVELOPE_TAGS)
    # A .gml.gz streams through gzip (within the inflation limits) into the parser, never inflated whole.
    with open_source(file.path, limits) as stream:
        events = etree.iterparse(
            stream, events=("end",), tag=tags, huge_tree=True, resolve_entities=False, remove_comments=True
        )
        try:
            for _, el in events:
                name = _local(el)
                if name == "Envelope":
                    _file_envelope(el, file)
                elif name == "Building":
                    file.count += 1
                    yield from _read_building(el, file)
                    _release(el)
                else:  # a cityObjectMember holding something else than a building (relief, groups, ...)
                    _release(el)
        except etree.XMLSyntaxError as exc:
            raise SourceError(f"{file.path}: line {exc.lineno}: {exc.msg}") from exc


def _check_citygml(path: Path, limits: SourceLimits) -> None:
    """Raise SourceError unless ``path`` is a readable XML file (gzipped or not) whose root declares CityGML."""
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    try:
        with open_source(path, limits) as stream:
            _, root = next(iter(etree.iterparse(stream, events=("start",), resolve_entities=False)))
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"{path}: line {exc.lineno}: not well-formed XML: {exc.msg}") from exc
    except (OSError, StopIteration) as exc:
        raise SourceError(f"{path}: cannot be read as XML: {exc}") from exc
    namespaces = {etree.QName(root).namespace, *root.nsmap.values()}
    if not namespaces & {*_CORE_NS, *_BLDG_NS}:
        raise UnsupportedFormat(f"{path}: not CityGML 1.0/2.0/3.0 (root element <{etree.QName(root).localname}>)")


def _file_envelope(el: Any, file: _File) -> None:
    """Remember srsName and srsDimension of the file-level ``CityModel/gml:boundedBy/gml:Envelope``."""
    bounded_by = el.getparent()
    if bounded_by is None or (root := bounded_by.getparent()) is None or root.getparent() is not None:
        return  # an Envelope of a feature, read with its building
    file.srs_name = el.get("srsName") or file.srs_name
    dims = el.get("srsDimension") or next((c.get("srsDimension") for c in el if c.get("srsDimension")), None)
    if dims and dims.isdigit():
        file.srs_dimension = int(dims)


def _release(el: Any) -> None:
    """Free a processed element and everything parsed before it, so memory does not grow with the file."""
    el.clear(keep_tail=True)
    node = el
    while (parent := node.getparent()) is not None:
        while node.getprevious() is not None:
            del parent[0]
        node = parent


# --- one building -------------------------------------------------------------------------------------


def _read_building(el: Any, file: _File) -> Iterator[Building]:
    """Records for one top-level Building element: itself (if it has geometry) and each BuildingPart."""
    top_id = _gml_id(el) or f"{file.source}#{file.count}"
    index = {str(a): a.getparent() for a in _ID_ATTRIBUTES(el)}
    srs_name = _nearest_srs_name(el)
    crs, swap = file.crs(srs_name, top_id)
    parts = [p for p in el.iter(*_PART_TAGS)]
    building_attrs = _attributes(el)
    features: list[tuple[Any, str, str | None]] = [(el, top_id, None)]
    features += [(p, _gml_id(p) or f"{top_id}/part{i}", top_id) for i, p in enumerate(parts, 1)]
    for feature, fid, parent in features:
        try:
            surfaces, lod = _feature_surfaces(feature, index, file, fid, swap)
            if not surfaces:
                if parent is None and parts:
                    continue  # the building's geometry is all in its parts
                file.report.skip(fid, "no usable polygon")
                continue
            attrs = _attributes(feature)
            if parent is not None:  # parts inherit what describes the whole building
                for key in ("name", "usage", "year", "address"):
                    if key not in attrs and key in building_attrs:
                        attrs[key] = building_attrs[key]
            yield _record(fid, file.source, crs, surfaces, lod, attrs, parent, file.report)
        except (ValueError, shapely.errors.ShapelyError) as exc:  # GEOSException, GeometryTypeError
            file.report.skip(fid, f"unreadable geometry ({type(exc).__name__})")


def _nearest_srs_name(el: Any) -> str | None:
    """srsName of the building's geometry, else of its own Envelope, else None (the file's applies)."""
    envelope = None
    for node in _SRS_ELEMENTS(el):
        if _local(node) != "Envelope":
            return str(node.get("srsName"))
        envelope = envelope or node.get("srsName")
    return envelope


def _geometry_properties(feature: Any) -> dict[int, list[Any]]:
    """The feature's own LoD1-4 geometry property elements by LoD, in document order (not its parts')."""
    found: dict[int, list[Any]] = {}
    stack = list(reversed(feature))
    while stack:
        node = stack.pop()
        name = _local(node)
        if not name:
            continue
        match = _GEOMETRY_PROPERTY.match(name)
        if match:
            found.setdefault(int(match.group(1)), []).append(node)
        elif name not in _NOT_EXTERIOR and etree.QName(node).namespace not in _GML_NS:
            stack.extend(reversed(node))
    return found


def _feature_surfaces(
    feature: Any, index: dict[str, Any], file: _File, fid: str, swap: bool
) -> tuple[list[Surface], int]:
    """The surfaces of the highest LoD that has any usable polygon, each polygon once, and that LoD."""
    properties = _geometry_properties(feature)
    for lod in sorted(properties, reverse=True):
        polygons: list[tuple[Any, bool]] = []
        for prop in properties[lod]:
            _collect_polygons(prop, index, False, polygons, file.report, fid)
        surfaces: list[Surface] = []
        seen_elements: set[int] = set()
        seen_shapes: set[bytes] = set()
        for poly, reverse in polygons:
            if id(poly) in seen_elements:
                continue
            seen_elements.add(id(poly))
            surface = _surface(poly, reverse, file, fid, swap)
            if surface is None:
                continue
            # Same vertices = same polygon (an OrientableSurface "-" of a boundary polygon, inline copies).
            key = np.sort(np.round(surface.exterior * 1000.0).astype(np.int64), axis=0).tobytes()
            if key not in seen_shapes:
                seen_shapes.add(key)
                surfaces.append(surface)
        if surfaces:
            return surfaces, lod
    return [], 0


def _collect_polygons(
    node: Any,
    index: dict[str, Any],
    reverse: bool,
    out: list[tuple[Any, bool]],
    report: Report,
    fid: str,
) -> None:
    """Append (polygon element, reversed) for every polygon under ``node``, following xlinks in ``index``.

    Walks with an explicit stack in document order (a hostile file nests surfaces deeper than Python
    recurses) and follows each xlink target once per orientation: a cycle ends there, and targets referenced
    twice by each of 30 levels do not make 2^30 visits. Polygons reached twice are drawn once anyway.
    """
    followed: set[tuple[Any, bool]] = set()
    stack = [(node, reverse)]
    while stack:
        node, reverse = stack.pop()
        href = node.get(_XLINK_HREF)
        if href is not None:
            target = index.get(href.rpartition("#")[2]) if href.startswith("#") else None
            if target is None:
                report.repair(fid, "unresolved xlink:href dropped")
            elif (target, reverse) not in followed:
                followed.add((target, reverse))
                stack.append((target, reverse))
            continue
        name = _local(node)
        if name in _POLYGON_TAGS:
            out.append((node, reverse))
            continue
        if name == "OrientableSurface" and node.get("orientation") == "-":
            reverse = not reverse
        # A Solid's interior shells are cavities: not visible from outside.
        children = [c for c in node if _local(c) and not (name == "Solid" and _local(c) == "interior")]
        stack.extend((child, reverse) for child in reversed(children))


# --- polygons -------------------------------------------------------------------------------------------


def _surface(poly: Any, reverse: bool, file: _File, fid: str, swap: bool) -> Surface | None:
    """One polygon element → Surface, or None (reported) when its exterior is degenerate."""
    exterior = None
    holes = []
    for child in poly:
        name = _local(child)
        if name in ("exterior", "interior") and len(child):
            ring = _clean_ring(_ring_coordinates(child[0], file.srs_dimension, swap))
            if name == "exterior":
                exterior = ring
            elif ring is None:
                file.report.repair(fid, "degenerate hole dropped")
            else:
                holes.append(ring)
    if exterior is None:
        file.report.repair(fid, "degenerate polygon dropped")
        return None
    if reverse:
        exterior = exterior[::-1].copy()
        holes = [h[::-1].copy() for h in holes]
    return Surface(exterior=exterior, holes=tuple(holes), kind=_surface_kind(poly))


def _surface_kind(poly: Any) -> str:
    """The kind of the thematic surface a polygon is defined in ("" for none)."""
    for ancestor in poly.iterancestors():
        name = _local(ancestor)
        if name in _SURFACE_KINDS:
            return _SURFACE_KINDS[name]
        if name in _FEATURE_TAGS:
            break
    return ""


def _ring_coordinates(ring: Any, default_dimension: int, swap: bool) -> np.ndarray | None:
    """(n, 3) float64 points of a LinearRing (posList, pos list or coordinates), or None if unreadable."""
    points: list[np.ndarray] = []
    for child in ring:
        name = _local(child)
        text = child.text or ""
        if name == "posList":
            dim = _dimension(child, default_dimension)
            values = _numbers(text)
            if values is None or values.size % dim:
                return None
            points.append(values.reshape(-1, dim))
        elif name == "pos":
            values = _numbers(text)
            if values is None:
                return None
            points.append(values.reshape(1, -1))
        elif name == "coordinates":
            cs, ts, dec = child.get("cs", ","), child.get("ts", " "), child.get("decimal", ".")
            tuples = [t.replace(dec, ".").split(cs) for t in text.replace("\n", ts).split(ts) if t.strip()]
            try:
                points.append(np.array(tuples, dtype=np.float64))
            except ValueError:
                return None
    if not points or len({p.shape[1] for p in points}) != 1:
        return None
    xyz = np.concatenate(points)
    if xyz.shape[1] == 2:
        xyz = np.column_stack([xyz, np.zeros(len(xyz))])
    elif xyz.shape[1] != 3:
        return None
    if swap:
        xyz[:, [0, 1]] = xyz[:, [1, 0]]
    return xyz


def _dimension(pos_list: Any, default: int) -> int:
    """srsDimension of a posList: its own, else the nearest geometry ancestor's, else the file's."""
    node = pos_list
    while node is not None and _local(node) not in _FEATURE_TAGS:
        value = node.get("srsDimension")
        if value and value.isdigit() and int(value) > 0:
            return int(value)
        node = node.getparent()
    return default


def _numbers(text: str) -> np.ndarray | None:
    try:
        return np.array(text.split(), dtype=np.float64)
    except ValueError:
        return None


def _clean_ring(points: np.ndarray | None) -> np.ndarray | None:
    """The ring without repeated points (the closing one included), or None if degenerate.

    Degenerate: NaN or infinite coordinates, fewer than 3 distinct points, or (next to) zero area.
    """
    if points is None or len(points) < 3 or not np.isfinite(points).all():
        return None
    differs = np.empty(len(points), dtype=bool)
    differs[:-1] = (points[1:] != points[:-1]).any(axis=1)
    differs[-1] = (points[-1] != points[0]).any()
    ring = points[differs]
    if len(ring) < 3:
        return None
    # Twice the area from Newell's normal, taken around the first point: that keeps large UTM values exact
    # and makes the terms with the first point vanish, so it is a sum of cross products of neighbours.
    local = ring - ring[0]
    a, b = local[1:-1], local[2:]
    normal = (
        float((a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1]).sum()),
        float((a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2]).sum()),
        float((a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum()),
    )
    extent = float((local.max(axis=0) - local.min(axis=0)).max())
    if math.hypot(*normal) <= 1e-10 * extent * extent:
        return None
    return np.ascontiguousarray(ring)


# --- attributes and the record --------------------------------------------------------------------------


def _attributes(feature: Any) -> dict[str, Any]:
    """The feature's own thematic attributes (direct children), in the keys twin's records use."""
    attrs: dict[str, Any] = {}
    addresses: list[str] = []
    for child in feature:
        name = _local(child)
        text = (child.text or "").strip()
        if name == "name" and text and "name" not in attrs:
            attrs["name"] = text
        elif name == "function" and text and "usage" not in attrs:
            attrs["usage"] = text
        elif name == "yearOfConstruction" and text:
            attrs["year"] = text
        elif name == "dateOfConstruction" and text:  # CityGML 3.0: a date
            attrs["year"] = text[:4]
        elif name == "roofType" and text:
            attrs["roof_type"] = text
        elif name == "measuredHeight" and text:
            attrs["measured_height"] = _float(text)
        elif name == "height" and "measured_height" not in attrs:  # CityGML 3.0 con:height/con:Height
            attrs["measured_height"] = _height_3(child)
        elif name == "storeysAboveGround" and text:
            levels = _float(text)
            if levels is not None:
                attrs["levels"] = int(levels)
        elif name == "address":
            address = _address(child)
            if address and address not in addresses:
                addresses.append(address)
    if addresses:
        attrs["address"] = "; ".join(addresses)
    if attrs.get("measured_height") is None:
        attrs.pop("measured_height", None)
    return attrs


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def _height_3(height: Any) -> float | None:
    """The value of a CityGML 3.0 ``Height`` (building top above the lowest ground point)."""
    for node in height.iter():
        if _local(node) == "value" and node.text:
            return _float(node.text.strip())
    return None


#: (parent, child) local names in xAL 2.0 (CityGML 1.0/2.0) and xAL 3.0 (CityGML 3.0) → address part.
_ADDRESS_PARTS = {
    ("Thoroughfare", "ThoroughfareName"): "street",
    ("Thoroughfare", "ThoroughfareNumber"): "number",
    ("PostalCode", "PostalCodeNumber"): "postcode",
    ("Locality", "LocalityName"): "city",
    ("Thoroughfare", "NameElement"): "street",
    ("Thoroughfare", "Number"): "number",
    ("PostCode", "Identifier"): "postcode",
    ("Locality", "NameElement"): "city",
}


def _address(address: Any) -> str:
    """One address as ``"Street Number, Postcode City"`` (the parts present)."""
    parts: dict[str, str] = {}
    for node in address.iter():
        parent = node.getparent()
        key = _ADDRESS_PARTS.get((_local(parent), _local(node))) if parent is not None else None
        if key and node.text and node.text.strip() and key not in parts:
            parts[key] = node.text.strip()
    street = " ".join(p for p in (parts.get("street"), parts.get("number")) if p)
    place = " ".join(p for p in (parts.get("postcode"), parts.get("city")) if p)
    return ", ".join(p for p in (street, place) if p)


def _record(
    fid: str,
    source: str,
    crs: str,
    surfaces: list[Surface],
    lod: int,
    attrs: dict[str, Any],
    parent: str | None,
    report: Report,
) -> Building:
    """Assemble the Building: footprint, base, height and roof from the surfaces and the attributes."""
    z = np.concatenate([s.exterior[:, 2] for s in surfaces])
    base, top = float(z.min()), float(z.max())
    measured = attrs.pop("measured_height", None)
    if measured is not None and measured <= 0:
        report.repair(fid, "non-positive measuredHeight ignored")
        measured = None
    height = measured if measured is not None else top - base
    code = attrs.get("roof_type")
    shape = ROOF_TYPE_SHAPES.get(code, "flat") if code else "flat"
    if code and code not in ROOF_TYPE_SHAPES:
        report.count("roof_fallback")
    roof_z = [s.exterior[:, 2] for s in surfaces if s.kind == "roof"]
    roof_height = float(np.ptp(np.concatenate(roof_z))) if roof_z and shape != "flat" else 0.0
    ground = [s for s in surfaces if s.kind == "ground"]
    properties = {**attrs, "lod": lod, "height_source": "measured" if measured is not None else "geometry"}
    return Building(
        id=fid,
        source=source,
        crs=crs,
        footprint=footprint(ground or surfaces),
        base=base,
        height=height,
        roof=Roof(shape=shape, height=roof_height),
        surfaces=tuple(surfaces),
        properties=properties,
        parent=parent,
    )


def footprint(surfaces: list[Surface]) -> Polygon | MultiPolygon | None:
    """2D union of the surfaces' xy projections, valid; the convex hull if that has no area; else None.

    Given the ground surfaces this is the building's footprint; given all surfaces the walls project to
    lines and drop out, so the roofs' outline remains.
    """
    polygons = [Polygon(s.exterior[:, :2], [h[:, :2] for h in s.holes]) for s in surfaces]
    union = _polygonal(shapely.union_all(_polygonal(shapely.make_valid(np.array(polygons, dtype=object)))))
    if len(union) and (result := shapely.union_all(union)).area > 0:
        if not result.is_valid:
            result = shapely.union_all(_polygonal(shapely.make_valid(result)))
        if isinstance(result, Polygon | MultiPolygon) and not result.is_empty:
            return result
    hull = shapely.MultiPoint(np.concatenate([s.exterior[:, :2] for s in surfaces])).convex_hull
    return hull if isinstance(hull, Polygon) and hull.area > 0 else None


def _polygonal(geometries: Any) -> np.ndarray:
    """The Polygon parts of geometries (collections and multi-geometries flattened)."""
    parts = np.atleast_1d(np.asarray(geometries, dtype=object))
    for _ in range(3):  # GeometryCollection → MultiPolygon → Polygon at most
        parts = shapely.get_parts(parts)
    return parts[shapely.get_type_id(parts) == 3]
