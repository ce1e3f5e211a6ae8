"""Contributions out of the server: GeoJSON with 3D points, CSV, and an OGC API – Features collection.

The export carries everything a planner needs to see what the citizen saw (variant, building, camera pose,
time of day) and where a paper card came from (workshop, card number); never anything about the device.
"""

from __future__ import annotations

import csv
import io
from typing import Any

#: The export's columns, in order; nested camera fields are flattened to ``camera_<field>``.
COLUMNS = (
    "id",
    "parent",
    "created",
    "category",
    "text",
    "name",
    "status",
    "reviewed",
    "hidden_reason",
    "answer",
    "answered",
    "votes",
    "replies",
    "lon",
    "lat",
    "height",
    "variant",
    "building",
    "design",
    "channel",
    "workshop",
    "card",
    "time",
    "camera_lon",
    "camera_lat",
    "camera_height",
    "camera_heading",
    "camera_pitch",
    "camera_fov",
    "camera_mode",
)
#: Properties of the public (OGC) features: no moderation internals.
PUBLIC_PROPERTIES = (
    "category",
    "text",
    "name",
    "channel",
    "variant",
    "building",
    "design",
    "created",
    "votes",
    "replies",
    "answer",
    "time",
)
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84H = "http://www.opengis.net/def/crs/OGC/0/CRS84h"
#: Spreadsheet programs run a cell that starts with one of these as a formula: such cells get a leading '.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def feature(row: dict[str, Any], properties: tuple[str, ...] | None = None) -> dict[str, Any]:
    """One contribution (as :func:`server.participation.rules.view` gives it) as a GeoJSON Feature, 3D point."""
    pos = row["position"]
    skip = {"id", "position"}
    props = {k: v for k, v in row.items() if k not in skip and (properties is None or k in properties)}
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": {"type": "Point", "coordinates": [pos["lon"], pos["lat"], pos["height"]]},
        "properties": props,
    }


def geojson(rows: list[dict[str, Any]], properties: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A FeatureCollection of contributions."""
    return {"type": "FeatureCollection", "features": [feature(r, properties) for r in rows]}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def flat(row: dict[str, Any]) -> dict[str, Any]:
    """A contribution as one flat record with the :data:`COLUMNS`."""
    out = {k: row.get(k) for k in COLUMNS}
    out.update(row["position"])
    camera = row.get("camera") or {}
    for key in ("lon", "lat", "height", "heading", "pitch", "fov", "mode"):
        out[f"camera_{key}"] = camera.get(key)
    return out


def csv_text(rows: list[dict[str, Any]]) -> str:
    """Contributions as CSV (RFC 4180, comma, header row, UTF-8), formula-looking cells defused."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        record = flat(row)
        writer.writerow([_cell(record[k]) for k in COLUMNS])
    return buf.getvalue()


def collection_id(scene: str) -> str:
    """The OGC collection id of a scene's contributions (a dot cannot occur in a scene id)."""
    return f"{scene}.contributions"


def ogc_collection(doc: dict[str, Any], base: str) -> dict[str, Any]:
    """An OGC API – Features collection document for the visible contributions of one published scene."""
    cid = collection_id(doc["id"])
    me = f"{base.rstrip('/')}/ogc/collections/{cid}"
    bounds = doc.get("bounds")
    extent = {"spatial": {"bbox": [bounds], "crs": CRS84}} if isinstance(bounds, list) and len(bounds) == 4 else {}
    return {
        "id": cid,
        "title": f"{doc.get('title', doc['id'])}: contributions",
        "description": "Visible citizens' contributions, pinned in 3D (lon, lat, ellipsoidal height)",
        "itemType": "feature",
        "extent": extent,
        "crs": [CRS84, CRS84H],
        "storageCrs": CRS84H,
        "links": [
            {"href": me, "rel": "self", "type": "application/json"},
            {"href": f"{me}/items", "rel": "items", "type": "application/geo+json", "title": "contributions"},
        ],
    }


def ogc_items(rows: list[dict[str, Any]], me: str, limit: int, offset: int, more: bool) -> dict[str, Any]:
    """An OGC API – Features items page (``me`` is the items URL without query)."""
    doc = geojson(rows, PUBLIC_PROPERTIES)
    page = "{}?limit={}&offset={}".format
    links = [{"href": page(me, limit, offset), "rel": "self", "type": "application/geo+json"}]
    if more:
        links.append({"href": page(me, limit, offset + limit), "rel": "next", "type": "application/geo+json"})
    return {**doc, "numberReturned": len(rows), "links": links}
