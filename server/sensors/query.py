"""The public sensor queries: stations as OGC API – Features, bucketed observations (JSON, CSV), summaries.

Parameters arrive as text; anything malformed is :class:`server.errors.BadRequest` (400, problem+json).
"""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from server.errors import BadRequest
from server.storage import Database
from twin.sensors.aggregate import BUCKETS, bucket_edges, grouped_bucket_sums, summary

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#: Most cells (stations x buckets) one observations answer holds.
MAX_CELLS = 200_000
#: Default window before the end of the data when ``from`` is not given, per bucket (s).
DEFAULT_WINDOW = {"15min": 86_400, "hour": 7 * 86_400, "day": 92 * 86_400}
KINDS = ("bicycle", "car", "other")
#: 2100-01-01T00:00Z: no count is later (and no range reaches past what a date can say).
LATEST = 4_102_444_800


def parse_when(text: str | None, name: str) -> int | None:
    """An ISO 8601 date/datetime (UTC unless it says otherwise) or UNIX seconds → UNIX seconds."""
    if text is None or text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(value) or abs(value) > 1e11:
            raise BadRequest(f"{name} must be a date, a datetime or UNIX seconds; got {text!r}")
        return int(value)
    try:
        t = datetime.fromisoformat(text)
    except ValueError as exc:
        raise BadRequest(f"{name} must be an ISO 8601 date or datetime (e.g. 2023-03-23T00:00Z); got {text!r}") from exc
    return int((t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp())


def _zone(db: Database, scene: str, tz: str | None, default: str | None = None) -> str:
    name = tz or default or next((s["timezone"] for s in db.sensors.sources(scene)), "UTC")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise BadRequest(f"unknown time zone {name!r}") from exc
    return name


def _window(db: Database, scene: str, start: str | None, end: str | None, default: int) -> tuple[int, int]:
    a, b = parse_when(start, "from"), parse_when(end, "to")
    if b is None:
        span = db.sensors.time_range(scene)
        b = span[1] if span else int(datetime.now(UTC).timestamp())
        if a is not None and a >= b:
            b = a + default
    if a is None:
        a = b - default
    if a >= b:
        raise BadRequest(f"from ({a}) must be before to ({b})")
    if a < 0 or b > LATEST:
        raise BadRequest("from and to must lie between 1970 and 2100")
    return a, b


def _iso(t: int) -> str:
    return datetime.fromtimestamp(int(t), UTC).isoformat().replace("+00:00", "Z")


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``w,s,e,n`` degrees, or None."""
    if text is None:
        return None
    from server.scenes import parse_bbox as parse

    return parse(text)


# stations (OGC API – Features) -----------------------------------------------------------------------


def _feature(row: dict[str, Any], base: str) -> dict[str, Any]:
    props = {
        "name": row["name"],
        "kind": row["kind"],
        "source": row["source"],
        "thing": row["thing"],
        "datastream": row["datastream"],
        "unit": row["unit"],
        **row["properties"],
    }
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": row["geometry"],
        "properties": props,
        "links": [{"href": f"{base}/items/{row['id']}/summary", "rel": "describedby", "type": "application/json"}],
    }


def collection(db: Database, scene: str, root: str) -> dict[str, Any]:
    """The stations collection document: extent in space and time, links to items and observations."""
    db.scenes.get(scene)
    base = f"{root.rstrip('/')}/api/scenes/{scene}/sensors"
    rows, n = db.sensors.stations(scene, limit=100_000)
    extent: dict[str, Any] = {}
    if rows:
        extent["spatial"] = {"bbox": [_bbox(rows)], "crs": CRS84}
    span = db.sensors.time_range(scene)
    if span:
        extent["temporal"] = {
            "interval": [[_iso(span[0]), _iso(span[1])]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    return {
        "id": f"{scene}-sensors",
        "title": f"Traffic counting stations of {scene}",
        "itemType": "feature",
        "crs": [CRS84],
        "extent": extent,
        "numberOfStations": n,
        "links": [
            {"href": base, "rel": "self", "type": "application/json"},
            {"href": f"{base}/items", "rel": "items", "type": "application/geo+json"},
            {"href": f"{base}/observations", "rel": "data", "type": "application/json", "title": "counts by bucket"},
            {"href": f"{base}/observations?format=csv", "rel": "alternate", "type": "text/csv"},
            {"href": f"{base}/status", "rel": "status", "type": "application/json"},
        ],
    }


def _bbox(rows: list[dict[str, Any]]) -> list[float]:
    xs: list[float] = []
    ys: list[float] = []
    for r in rows:
        c = r["geometry"]["coordinates"]
        for p in [c] if r["geometry"]["type"] == "Point" else c:
            xs.append(float(p[0]))
            ys.append(float(p[1]))
    return [min(xs), min(ys), max(xs), max(ys)]


def items(
    db: Database, scene: str, root: str, bbox: str | None, kind: str | None, limit: int, offset: int
) -> dict[str, Any]:
    """A page of stations as a GeoJSON FeatureCollection with OGC API – Features paging links."""
    db.scenes.get(scene)
    if kind is not None and kind not in KINDS:
        raise BadRequest(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    base = f"{root.rstrip('/')}/api/scenes/{scene}/sensors"
    rows, matched = db.sensors.stations(scene, parse_bbox(bbox), kind, limit, offset)
    links = [{"href": f"{base}/items?limit={limit}&offset={offset}", "rel": "self", "type": "application/geo+json"}]
    if offset + len(rows) < matched:
        links.append(
            {
                "href": f"{base}/items?limit={limit}&offset={offset + limit}",
                "rel": "next",
                "type": "application/geo+json",
            }
        )
    return {
        "type": "FeatureCollection",
        "features": [_feature(r, base) for r in rows],
        "numberMatched": matched,
        "numberReturned": len(rows),
        "timeStamp": _iso(int(datetime.now(UTC).timestamp())),
        "links": links,
    }


def item(db: Database, scene: str, root: str, station: str) -> dict[str, Any]:
    """One station as a GeoJSON Feature."""
    db.scenes.get(scene)
    return _feature(db.sensors.station(scene, station), f"{root.rstrip('/')}/api/scenes/{scene}/sensors")


# observations --------------------------------------------------------------------------------------


def observations(
    db: Database,
    scene: str,
    bucket: str,
    start: str | None,
    end: str | None,
    stations: str | None,
    tz: str | None,
) -> dict[str, Any]:
    """Sums and counts per bucket for the chosen stations (all by default) over ``[from, to)``.

    ``{"bucket", "timezone", "from", "to", "starts"/"ends": [UNIX s of each bucket], "stations": [{"id", "kind",
    "sums": [float | None], "counts": [int]}]}``; a bucket without observations has a null sum.
    """
    if bucket not in BUCKETS:
        raise BadRequest(f"bucket must be one of {', '.join(BUCKETS)}; got {bucket!r}")
    wanted = _wanted(stations)
    source_zone, every = db.sensors.scene_stations(scene, wanted)  # one connection: scene, zone, stations
    zone = _zone(db, scene, tz, source_zone or "UTC")
    a, b = _window(db, scene, start, end, DEFAULT_WINDOW[bucket])
    chosen = _chosen(scene, wanted, every)
    # Count the cells before making the edges: a century of quarter hours would not fit in memory.
    if ((b - a) // BUCKETS[bucket] + 1) * max(len(chosen), 1) > MAX_CELLS:
        raise BadRequest(
            f"{len(chosen)} stations x {(b - a) // BUCKETS[bucket] + 1} {bucket} buckets is more than {MAX_CELLS}: "
            "choose fewer stations, a shorter range or a longer bucket"
        )
    edges = bucket_edges(a, b, bucket, zone)
    keys = [c["key"] for c in chosen]
    query = db.sensors.series if bucket == "15min" else db.sensors.hourly
    rows = query(keys, int(edges[0]), int(edges[-1]))
    order = np.argsort(np.array(keys, dtype=np.int64))
    sorted_keys = np.array(keys, dtype=np.int64)[order]
    group = order[np.searchsorted(sorted_keys, rows.streams)] if len(keys) else rows.streams
    sums, counts = grouped_bucket_sums(group, rows.starts, rows.values, edges, len(keys), rows.counts)
    # Whole arrays to lists at once (an empty bucket's sum is None), then one small dict per station.
    totals = np.where(counts > 0, sums.astype(object), np.array(None, dtype=object)).tolist()
    out = [
        {"id": c["id"], "kind": c["kind"], "sums": total, "counts": number}
        for c, total, number in zip(chosen, totals, counts.tolist(), strict=True)
    ]
    return {
        "bucket": bucket,
        "timezone": zone,
        "from": _iso(a),
        "to": _iso(b),
        "starts": [int(t) for t in edges[:-1]],
        "ends": [int(t) for t in edges[1:]],
        "stations": out,
    }


def _wanted(stations: str | None) -> list[str] | None:
    """The station ids a request names (None: all of them)."""
    if not stations:
        return None
    wanted = [s.strip() for s in stations.split(",") if s.strip()]
    if len(wanted) > 1000:
        raise BadRequest("at most 1000 stations per request")
    return wanted or None


def _chosen(scene: str, wanted: list[str] | None, every: dict[str, Any]) -> list[dict[str, Any]]:
    """The stations of an answer, in the order asked (by id for all); NotFound names the first unknown one."""
    if wanted is None:
        return list(every.values())
    missing = [s for s in wanted if s not in every]
    if missing:
        from twin.errors import NotFound

        raise NotFound(f"station {missing[0]!r} not found in scene {scene!r}")
    return [every[s] for s in dict.fromkeys(wanted)]


def observations_csv(doc: dict[str, Any]) -> str:
    """An observations answer as CSV: ``station,kind,start,end,sum,count`` per non-empty bucket (ISO 8601 UTC)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["station", "kind", "start", "end", "sum", "count"])
    for st in doc["stations"]:
        for t0, t1, s, n in zip(doc["starts"], doc["ends"], st["sums"], st["counts"], strict=True):
            if n:
                w.writerow([st["id"], st["kind"], _iso(t0), _iso(t1), f"{s:g}", n])
    return buf.getvalue()


def station_summary(
    db: Database, scene: str, station: str, start: str | None, end: str | None, tz: str | None
) -> dict[str, Any]:
    """Daily totals, each day's peak hour, weekday and weekend profiles of one station over ``[from, to)``."""
    db.scenes.get(scene)
    row = db.sensors.station(scene, station)
    zone = _zone(db, scene, tz)
    a, b = _window(db, scene, start, end, 366 * 86_400)
    if b - a > 3 * 366 * 86_400:
        raise BadRequest("a summary covers at most three years")
    rows = db.sensors.series([row["key"]], a, b)
    doc = summary(rows.starts, rows.values, zone)
    doc.update(
        {
            "station": station,
            "name": row["name"],
            "kind": row["kind"],
            "unit": row["unit"],
            "from": _iso(a),
            "to": _iso(b),
        }
    )
    doc["observations"] = int(rows.starts.size)
    return doc
