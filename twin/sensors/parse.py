"""SensorThings v1.0/v1.1 pages (Things, Datastreams, Locations, Observations, ``$expand``ed) to records; no I/O.

A page is one decoded JSON document: a collection (``{"value": [...], "@iot.nextLink": ...}``) or a single
entity. Every problem of a station (no position, a position in another CRS than declared, a negative count,
a result that is not a number, a time that is not ISO 8601) goes into the :class:`IngestReport` under the
station's id and the item is skipped or repaired; nothing is raised for one bad station.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from twin.sensors.records import IngestReport, Observation, Station

WGS84 = "EPSG:4326"
_DATASTREAM_IN_URL = re.compile(r"/Datastreams\((\d+|'[^']*')\)/Observations")
_CRS84 = {"urn:ogc:def:crs:ogc:1.3:crs84", "crs84", "epsg:4326", "urn:ogc:def:crs:epsg::4326", "ogc:crs84"}
_BICYCLE = ("fahrrad", "radverkehr", "bicycle", "bike", "cycle", "velo")
_CAR = ("kfz", "pkw", "lkw", "auto", "car", "vehicle", "fahrzeug")
#: Unit names that mean "a count": a negative value of them is noise, not a measurement.
_COUNT_UNITS = ("anzahl", "count", "counts", "number", "fahrzeuge", "vehicles", "{count}")


@dataclass(frozen=True)
class Region:
    """A lon/lat box (degrees) that stations must touch; also the yardstick for repairing swapped axes."""

    west: float
    south: float
    east: float
    north: float

    def contains(self, x: float, y: float) -> bool:
        """True if lon ``x``, lat ``y`` lies in the box."""
        return self.west <= x <= self.east and self.south <= y <= self.north


@dataclass(frozen=True)
class ParseOptions:
    """How a source's pages are read.

    ``crs`` is the CRS positions are declared in when a geometry names none (SensorThings says WGS 84);
    ``fallback_crs`` is tried for positions that are plainly not degrees (metres of a national grid);
    ``kind`` forces every station's kind; ``region`` keeps only stations that touch it.
    """

    source: str = "sensors"
    crs: str = WGS84
    fallback_crs: str | None = "EPSG:25832"
    kind: str | None = None
    region: Region | None = None


@dataclass
class Page:
    """What one page gave: stations, observations and the next page's URL (``@iot.nextLink``)."""

    stations: list[Station] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    next_link: str | None = None


def expand_bounds(bounds: Iterable[float], margin_m: float) -> Region:
    """``(west, south, east, north)`` in degrees grown by ``margin_m`` metres on every side."""
    w, s, e, n = (float(v) for v in bounds)
    lat = math.radians((s + n) / 2)
    dlat = margin_m / 111_320.0
    dlon = margin_m / (111_320.0 * max(math.cos(lat), 1e-6))
    return Region(w - dlon, s - dlat, e + dlon, n + dlat)


def parse_time(text: Any) -> tuple[int, int] | None:
    """A SensorThings time (instant or ``start/end`` interval, ISO 8601) as UNIX seconds, or None."""
    if not isinstance(text, str) or not text:
        return None
    parts = text.split("/")
    if len(parts) > 2:
        return None
    try:
        stamps = [datetime.fromisoformat(p) for p in parts]
    except ValueError:
        return None
    secs = [int((t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()) for t in stamps]
    return (secs[0], secs[-1]) if secs[-1] >= secs[0] else None


def parse_page(doc: Any, report: IngestReport, options: ParseOptions | None = None, url: str = "") -> Page:
    """Stations and observations of one decoded SensorThings page.

    ``url`` is where the page came from: an Observations page of ``Datastreams(<id>)/Observations`` names
    its datastream only there.
    """
    opts = options or ParseOptions()
    page = Page()
    if not isinstance(doc, dict):
        report.skip(opts.source, "page is not a JSON object", url)
        return page
    items = doc["value"] if isinstance(doc.get("value"), list) else [doc]
    link = doc.get("@iot.nextLink")
    page.next_link = link if isinstance(link, str) and link else None
    in_url = _DATASTREAM_IN_URL.search(url or "")
    url_stream = in_url.group(1).strip("'") if in_url else None
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            report.skip(opts.source, "entity is not a JSON object")
            continue
        for thing, stream, observations in _streams(item, url_stream):
            station = _station(thing, stream, opts, report)
            if station is None:
                report.count("observations_skipped", len(observations))
                continue
            if station.id not in seen and not stream.get("_observations_only"):
                seen.add(station.id)
                page.stations.append(station)
            page.observations.extend(_observations(station, stream, observations, report))
    report.count("pages")
    return page


def _streams(item: dict[str, Any], url_stream: str | None) -> Iterator[tuple[dict, dict, list]]:
    """(thing, datastream, observations) for every datastream an entity holds or is part of."""
    if "result" in item and "phenomenonTime" in item and "Datastreams" not in item:  # an Observation
        stream = item.get("Datastream")
        if isinstance(stream, dict):
            yield _thing_of(stream), stream, [item]
        elif url_stream is not None:
            yield {}, {"@iot.id": url_stream, "_observations_only": True}, [item]
        return
    if "location" in item and "Datastreams" not in item:  # a Location with its Things
        for thing in _list(item.get("Things")):
            if isinstance(thing, dict):
                thing = {**thing, "Locations": [item]}
                yield from _streams(thing, url_stream)
        return
    if "Datastreams" in item or "Locations" in item or "/Things(" in str(item.get("@iot.selfLink", "")):
        for stream in _list(item.get("Datastreams")):
            if isinstance(stream, dict):
                yield item, stream, _list(stream.get("Observations"))
        return
    yield _thing_of(item), item, _list(item.get("Observations"))  # a Datastream


def _thing_of(stream: dict[str, Any]) -> dict[str, Any]:
    thing = stream.get("Thing")
    return thing if isinstance(thing, dict) else {}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _station(thing: dict[str, Any], stream: dict[str, Any], opts: ParseOptions, report: IngestReport) -> Station | None:
    raw_id = stream.get("@iot.id")
    if raw_id is None or isinstance(raw_id, bool):
        report.skip(opts.source, "datastream without @iot.id", str(stream.get("name", ""))[:80])
        return None
    sid = f"{opts.source}-{raw_id}"
    if stream.get("_observations_only"):
        # An Observations page: the datastream's position came (or comes) with its own page.
        return Station(sid, opts.source, "", opts.kind or "other", "", str(raw_id), {}, {})
    geometry = _position(sid, thing, stream, opts, report)
    if geometry is None:
        return None
    if opts.region is not None and not any(opts.region.contains(x, y) for x, y in _coords(geometry)):
        report.count("stations_outside_extent")
        return None
    props = _dict(stream.get("properties"))
    unit = _dict(stream.get("unitOfMeasurement"))
    name = str(thing.get("name") or stream.get("name") or sid)
    extra: dict[str, Any] = {k: props[k] for k in ("layerName", "serviceName", "aggregateDuration") if k in props}
    if stream.get("name"):
        extra["datastream_name"] = str(stream["name"])
    if isinstance(stream.get("observationType"), str):
        extra["observationType"] = stream["observationType"]
    report.count("stations")
    return Station(
        id=sid,
        source=opts.source,
        name=name,
        kind=opts.kind or station_kind(thing, stream),
        thing=str(thing.get("@iot.id", "")),
        datastream=str(raw_id),
        geometry=geometry,
        unit=unit,
        properties=extra,
    )


def station_kind(thing: dict[str, Any], stream: dict[str, Any]) -> str:
    """``bicycle``, ``car`` or ``other`` from the datastream's names and network, else the thing's.

    The datastream decides first: in Hamburg one Thing (a counting site) carries both the bicycle and
    the car network's datastreams, and its keywords name the bicycle network either way.
    """
    props = _dict(stream.get("properties"))
    for text in (
        " ".join(str(props.get(k, "")) for k in ("layerName", "serviceName")),
        f"{stream.get('name', '')} {stream.get('description', '')}",
        f"{thing.get('name', '')} {thing.get('description', '')}",
    ):
        low = text.lower()
        bike = any(w in low for w in _BICYCLE)
        car = any(w in low for w in _CAR)
        if bike != car:
            return "bicycle" if bike else "car"
    return "other"


# positions ---------------------------------------------------------------------------------------------


def _position(
    sid: str, thing: dict[str, Any], stream: dict[str, Any], opts: ParseOptions, report: IngestReport
) -> dict[str, Any] | None:
    """The station's geometry in lon/lat: the datastream's observedArea, else the thing's first Location."""
    candidates = [stream.get("observedArea")]
    for loc in _list(thing.get("Locations")):
        if isinstance(loc, dict):
            candidates.append(loc.get("location"))
    for raw in candidates:
        geom = _geometry(raw)
        if geom is None:
            continue
        fixed = _to_lonlat(sid, geom, opts, report)
        if fixed is not None:
            return fixed
    if not any(_geometry(raw) for raw in candidates):
        report.skip(sid, "missing position", "no observedArea and no Location with a GeoJSON geometry")
    return None


def _geometry(raw: Any) -> dict[str, Any] | None:
    """A GeoJSON Point/LineString/Polygon from a geometry or a Feature, or None."""
    if isinstance(raw, dict) and raw.get("type") == "Feature":
        crs = raw.get("crs")
        raw = raw.get("geometry")
        if isinstance(raw, dict) and crs is not None and "crs" not in raw:
            raw = {**raw, "crs": crs}
    if not isinstance(raw, dict) or raw.get("type") not in ("Point", "LineString", "Polygon"):
        return None
    coords = raw.get("coordinates")
    if not isinstance(coords, list) or not coords:
        return None
    return raw


def _declared_crs(geom: dict[str, Any], default: str) -> str:
    crs = geom.get("crs")
    if isinstance(crs, dict) and isinstance(crs.get("properties"), dict):
        name = str(crs["properties"].get("name", ""))
        if name:
            return WGS84 if name.lower() in _CRS84 else name
    return default


def _to_lonlat(sid: str, geom: dict[str, Any], opts: ParseOptions, report: IngestReport) -> dict[str, Any] | None:
    kind = geom["type"]
    raw = geom["coordinates"]
    try:
        if kind == "Point":
            points = [_xy(raw)]
        elif kind == "LineString":
            points = [_xy(p) for p in raw]
        else:  # a polygon's outer ring: its centroid is where the station is drawn
            ring = [_xy(p) for p in raw[0]]
            points = [(sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))]
            report.repair(sid, "polygon position drawn at its centroid")
    except (TypeError, ValueError, IndexError, KeyError, ZeroDivisionError):  # KeyError: a point that is an object
        report.skip(sid, "missing position", f"{kind} coordinates are not numbers")
        return None
    declared = _declared_crs(geom, opts.crs)
    if declared.upper() != WGS84:
        try:
            points = _transform(declared, points)
        except Exception as exc:  # pyproj raises several types for an unknown CRS
            report.skip(sid, "position in an unknown CRS", f"{declared}: {exc}")
            return None
    fixed = [_fix_point(sid, p, declared, opts, report) for p in points]
    if any(p is None for p in fixed):
        return None
    pts = [p for p in fixed if p is not None]
    distinct = [p for i, p in enumerate(pts) if i == 0 or p != pts[i - 1]]
    if len(distinct) >= 2:
        return {"type": "LineString", "coordinates": [[round(x, 7), round(y, 7)] for x, y in distinct]}
    if len(pts) > 1:
        report.repair(sid, "section of one point drawn as a point")
    x, y = distinct[0]
    return {"type": "Point", "coordinates": [round(x, 7), round(y, 7)]}


def _xy(p: Any) -> tuple[float, float]:
    x, y = float(p[0]), float(p[1])
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError("not finite")
    return x, y


def _fix_point(
    sid: str, p: tuple[float, float], declared: str, opts: ParseOptions, report: IngestReport
) -> tuple[float, float] | None:
    """``p`` in lon/lat, repaired where it plainly is not what the source declared."""
    x, y = p
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        # Metres of a national grid declared as degrees (a common export mistake): try the fallback CRS.
        if opts.fallback_crs:
            try:
                ((gx, gy),) = _transform(opts.fallback_crs, [p])
            except Exception:  # an unusable fallback CRS is the manifest's problem; report, skip
                gx, gy = math.nan, math.nan
            if math.isfinite(gx) and (opts.region.contains(gx, gy) if opts.region else -90 <= gy <= 90):
                report.repair(sid, "position in another CRS than declared", f"{p} read as {opts.fallback_crs}")
                return gx, gy
        report.skip(sid, "position in another CRS than declared", f"{p} are not {declared} degrees")
        return None
    region = opts.region
    if region is not None and not region.contains(x, y) and region.contains(y, x):
        report.repair(sid, "latitude and longitude swapped", f"{p}")
        return y, x
    return x, y


@lru_cache(maxsize=16)
def _transformer(src: str) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(src, WGS84, always_xy=True)


def _transform(src: str, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    t = _transformer(src)
    xs, ys = t.transform([p[0] for p in points], [p[1] for p in points])
    return list(zip((float(v) for v in xs), (float(v) for v in ys), strict=True))


def _coords(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    c = geometry["coordinates"]
    return [(c[0], c[1])] if geometry["type"] == "Point" else [(p[0], p[1]) for p in c]


# observations ------------------------------------------------------------------------------------------


def _is_count(station: Station, stream: dict[str, Any]) -> bool:
    otype = str(stream.get("observationType", ""))
    name = str(station.unit.get("name", "")).lower()
    return "count" in otype.lower() or name in _COUNT_UNITS or station.kind in ("bicycle", "car")


def _observations(
    station: Station, stream: dict[str, Any], items: list[Any], report: IngestReport
) -> Iterator[Observation]:
    if isinstance(stream.get("Observations@iot.nextLink"), str):
        report.count("observation_pages_not_followed")
    counting = _is_count(station, stream)
    for item in items:
        if not isinstance(item, dict):
            report.skip(station.id, "observation is not a JSON object")
            continue
        when = parse_time(item.get("phenomenonTime"))
        if when is None:
            report.skip(station.id, "bad phenomenonTime", str(item.get("phenomenonTime"))[:60])
            continue
        value = _number(station.id, item.get("result"), report)
        if value is None:
            continue
        if counting and value < 0:
            report.skip(station.id, "negative count", f"{value:g} at {item.get('phenomenonTime')}")
            continue
        report.count("observations")
        yield Observation(station.id, when[0], when[1], value)


def _number(sid: str, result: Any, report: IngestReport) -> float | None:
    if isinstance(result, bool) or result is None:
        report.skip(sid, "non-numeric result", repr(result))
        return None
    if isinstance(result, int | float):
        value = float(result)
    elif isinstance(result, str):
        try:
            value = float(result.strip().replace(",", "."))
        except ValueError:
            report.skip(sid, "non-numeric result", repr(result[:40]))
            return None
        report.repair(sid, "numeric result sent as text", repr(result[:40]))
    else:
        report.skip(sid, "non-numeric result", type(result).__name__)
        return None
    if not math.isfinite(value):
        report.skip(sid, "non-numeric result", repr(result))
        return None
    return value
