"""Generic building footprints: GeoJSON and GeoPackage polygons with a height attribute.

The attribute that holds the height is named by ``ReaderOptions.height_attribute`` (e.g. ``"hoehe"``),
the one that holds a stable id by ``ReaderOptions.id_attribute``; without it the id is
``"<source>/<GeoJSON feature id or GeoPackage row id>"``, else ``"<source>/<index in the file>"``.

CRS: GeoJSON's (legacy) ``crs`` member, else EPSG:4326 (RFC 7946); GeoPackage's ``gpkg_spatial_ref_sys``;
``ReaderOptions.crs`` overrides both.

GeoPackage is read with the standard library's sqlite3 (row by row, so memory stays flat) and the GPKG
geometry blob is parsed here (header, then standard WKB for shapely): no GDAL needed. GeoJSON is parsed
whole with :mod:`json`: a streaming JSON parser would be a dependency for files that are rarely large.
"""

from __future__ import annotations

import os
import re
import sqlite3
import struct
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import shapely
import shapely.wkb
from shapely.errors import ShapelyError
from shapely.geometry import shape

from twin.errors import CRSError, SourceError, UnsupportedFormat
from twin.read.clean import clean_footprint
from twin.read.jsonfile import load_json
from twin.read.osmtags import parse_length
from twin.records import Building, ReaderOptions
from twin.report import Report

#: Attributes copied into ``Building.properties`` when a footprint file has them (name → type).
WELL_KNOWN = {"levels": int, "name": str, "address": str, "usage": str, "year": str}

#: Some rows of one GeoPackage table: (table, SQL condition, its parameters), read in row id order.
GpkgRows = tuple[str, str, tuple[Any, ...]]

# GeoPackage geometry header: envelope indicator (flags bits 1-3) → envelope size in bytes.
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def crs_from_name(name: str) -> str:
    """A GeoJSON ``crs`` name (``"urn:ogc:def:crs:EPSG::25832"``, ``"EPSG:25832"``, CRS84) → ``"EPSG:n"``.

    Names that are not EPSG codes are returned unchanged for pyproj to judge.
    """
    if re.search(r"CRS84$", name, flags=re.IGNORECASE):
        return "EPSG:4326"
    match = re.search(r"EPSG:(?:[\d.]*:)?(\d+)$", name, flags=re.IGNORECASE)
    return f"EPSG:{match.group(1)}" if match else name


def parse_gpkg_geometry(blob: bytes) -> Any:
    """A GeoPackage geometry blob (``GP`` header, optional envelope, then WKB) → shapely geometry.

    Returns ``None`` for the empty geometry; raises ``ValueError`` for a blob that is not one.
    """
    if len(blob) < 8 or blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob")
    flags = blob[3]
    if flags & 0b0010_0000:
        raise ValueError("extended GeoPackage geometry types are not supported")
    if flags & 0b0001_0000:
        return None
    envelope = (flags >> 1) & 0b111
    if envelope not in _ENVELOPE_BYTES:
        raise ValueError(f"bad envelope indicator {envelope}")
    return shapely.wkb.loads(bytes(blob[8 + _ENVELOPE_BYTES[envelope] :]))


def _height(value: Any) -> float | None:
    """A height attribute value: a number, or text such as ``"12.5"`` / ``"12 m"``; ``None`` if bad."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number if 0.0 < number <= 1000.0 else None
    if isinstance(value, str):
        number_or_none = parse_length(value)
        return number_or_none if number_or_none else None
    return None


def _building(
    feature_id: str,
    geometry: Any,
    attributes: Mapping[str, Any],
    *,
    crs: str,
    source: str,
    options: ReaderOptions,
    report: Report,
) -> Building | None:
    footprint, problem = clean_footprint(geometry)
    if footprint is None:
        report.skip(feature_id, problem)
        return None
    height = None
    attribute = options.height_attribute
    if attribute is not None and attributes.get(attribute) is not None:
        height = _height(attributes[attribute])
        if height is None:
            report.repair(feature_id, "bad height attribute")
    properties: dict[str, Any] = {"height_source": "height" if height is not None else "default"}
    for key, kind in WELL_KNOWN.items():
        value = attributes.get(key)
        if value is None or value == "":
            continue
        try:
            properties[key] = kind(value)
        except (TypeError, ValueError):
            report.repair(feature_id, f"bad {key} attribute")
    return Building(id=feature_id, source=source, crs=crs, footprint=footprint, height=height, properties=properties)


def _feature_id(attributes: Mapping[str, Any], fallback: Any, index: int, options: ReaderOptions, prefix: str) -> str:
    """The id attribute's value; else ``prefix`` + the file's own id (feature id, row id) or the index.

    File-local ids get the source name as prefix: ids must be unique across all sources of a scene and
    two footprint files both have a feature 1.
    """
    if options.id_attribute is not None and attributes.get(options.id_attribute) not in (None, ""):
        return str(attributes[options.id_attribute])
    return prefix + (str(fallback) if fallback not in (None, "") else str(index))


def _geojson_features(path: Path, options: ReaderOptions, source: str) -> tuple[str, Iterator[tuple[str, Any, dict]]]:
    data = load_json(path)
    if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature"):
        raise SourceError(f"{path} is not a GeoJSON FeatureCollection")
    features = data["features"] if data["type"] == "FeatureCollection" else [data]
    if not isinstance(features, list):
        raise SourceError(f"{path}: 'features' is not a list")

    crs = "EPSG:4326"
    member = data.get("crs")
    if isinstance(member, dict) and isinstance(member.get("properties"), dict):
        name = member["properties"].get("name")
        if isinstance(name, str):
            crs = crs_from_name(name)
    crs = options.crs or crs

    def features_of() -> Iterator[tuple[str, Any, dict]]:
        for index, item in enumerate(features):
            feature = item if isinstance(item, dict) else {}
            properties = feature.get("properties")
            attributes = properties if isinstance(properties, dict) else {}
            fid = _feature_id(attributes, feature.get("id"), index, options, f"{source}/")
            try:
                geometry = shape(feature["geometry"]) if feature.get("geometry") else None
            except (KeyError, TypeError, ValueError, AttributeError, ShapelyError):
                geometry = None
            yield fid, geometry, attributes

    return crs, features_of()


def _gpkg_crs(db: sqlite3.Connection, srs_id: int, path: Path) -> str:
    row = db.execute(
        "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
        (srs_id,),
    ).fetchone()
    if row is None:
        raise CRSError(f"{path}: srs_id {srs_id} is not in gpkg_spatial_ref_sys")
    organization, code, definition = row
    if srs_id == 0:
        return "EPSG:4326"  # the GeoPackage spec's "undefined geographic"
    if srs_id == -1 or (definition or "").strip() in ("", "undefined"):
        raise CRSError(f"{path}: the layer has no defined CRS; set the source's crs")
    if str(organization).upper() == "EPSG":
        return f"EPSG:{code}"
    return str(definition)


def _gpkg_features(
    path: Path, options: ReaderOptions, report: Report, source: str, rows: GpkgRows | None = None
) -> Iterator[tuple[str, str, Any, dict]]:
    """(crs, id, geometry, attributes) of every row of every feature table (or of ``rows``), streamed from sqlite."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        layers = db.execute(
            "SELECT g.table_name, g.column_name, g.srs_id FROM gpkg_geometry_columns g "
            "JOIN gpkg_contents c ON c.table_name = g.table_name WHERE c.data_type = 'features'"
        ).fetchall()
    except sqlite3.Error as err:
        raise SourceError(f"cannot read GeoPackage {path}: {err}") from err
    try:
        for table, column, srs_id in layers:
            if rows is not None and table != rows[0]:
                continue
            crs = options.crs or _gpkg_crs(db, srs_id, path)
            info = db.execute(f'PRAGMA table_info("{table}")').fetchall()
            pk = next((c[1] for c in info if c[5]), None)
            prefix = f"{source}/{table}/" if len(layers) > 1 else f"{source}/"
            where = f" WHERE {rows[1]} ORDER BY rowid" if rows is not None else ""
            cursor = db.execute(f'SELECT * FROM "{table}"{where}', rows[2] if rows is not None else ())
            names = [d[0] for d in cursor.description]
            for index, row in enumerate(cursor):
                attributes = dict(zip(names, row, strict=True))
                blob = attributes.pop(column)
                fid = _feature_id(attributes, attributes.get(pk) if pk else None, index, options, prefix)
                try:
                    geometry = parse_gpkg_geometry(blob) if blob is not None else None
                except (ValueError, ShapelyError, struct.error):
                    report.skip(fid, "unreadable geometry")
                    continue
                yield crs, fid, geometry, attributes
    except sqlite3.Error as err:
        raise SourceError(f"cannot read GeoPackage {path}: {err}") from err
    finally:
        db.close()


def read_footprints(
    path: str | os.PathLike[str],
    *,
    options: ReaderOptions,
    report: Report,
    source: str = "",
    rows: GpkgRows | None = None,
) -> Iterator[Building]:
    """Buildings from a GeoJSON (``.geojson``, ``.json``) or GeoPackage (``.gpkg``) footprint file.

    Heights come from ``options.height_attribute`` (numbers or text like ``"12.5 m"``); features without
    one get ``height=None`` (the repair stage applies the default, ``height_source="default"``). Features
    without a polygon are skipped into the report. Raises :class:`SourceError` for a missing or unreadable
    file, :class:`UnsupportedFormat` for another extension, :class:`CRSError` for an undefined GPKG CRS.
    ``rows`` reads only some rows of a GeoPackage (a partition of a distributed build, :mod:`twin.distributed`).
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"footprint file not found: {path}")
    source = source or path.name
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        crs, features = _geojson_features(path, options, source)
        for fid, geometry, attributes in features:
            building = _building(fid, geometry, attributes, crs=crs, source=source, options=options, report=report)
            if building is not None:
                yield building
    elif suffix == ".gpkg":
        for crs, fid, geometry, attributes in _gpkg_features(path, options, report, source, rows):
            building = _building(fid, geometry, attributes, crs=crs, source=source, options=options, report=report)
            if building is not None:
                yield building
    else:
        raise UnsupportedFormat(f"{path}: footprints must be .geojson, .json or .gpkg, not {suffix!r}")
