"""The ``[[sensors]]`` tables of a scene manifest: where a scene's sensor stations come from.

::

    [[sensors]]
    name = "bike"                          # station ids are "<name>-<datastream id>"
    pages = ["data/sensors/bike_counts.json"]   # recorded SensorThings pages (offline), or:
    # url = "https://iot.hamburg.de/v1.1/Things"
    # filter = "Datastreams/properties/serviceName eq 'HH_STA_HamburgerRadzaehlnetz'"
    # expand = "Datastreams($expand=Observations($top=96;$orderby=phenomenonTime desc))"
    # allowed_hosts = ["iot.hamburg.de"]   # default: the url's host; nothing else is ever fetched
    margin = 700.0                         # metres around the scene's extent
    refresh = 900                          # seconds between refreshes of a live source
    timezone = "Europe/Berlin"             # days, hours and profiles follow this clock
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from twin.errors import ManifestError

_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class SensorSourceSpec:
    """One sensors source of a scene: a SensorThings base URL or recorded pages, and how to read it."""

    name: str
    url: str | None = None
    pages: tuple[Path, ...] = ()
    filter: str | None = None
    expand: str | None = None
    top: int = 100
    margin: float = 500.0
    bbox: tuple[float, float, float, float] | None = None
    refresh: float = 900.0
    allowed_hosts: tuple[str, ...] = ()
    timeout: float = 20.0
    max_pages: int = 200
    max_page_bytes: int = 32 * 1024 * 1024
    kind: str | None = None
    crs: str = "EPSG:4326"
    fallback_crs: str | None = None
    timezone: str = "UTC"

    @property
    def live(self) -> bool:
        """True for a source fetched over HTTP (refreshed on a schedule)."""
        return self.url is not None


def parse_sensor_sources(
    raw: Any, root: Path, where: str, scene_crs: str | None = None
) -> tuple[SensorSourceSpec, ...]:
    """The ``[[sensors]]`` list of a parsed manifest; paths against ``root``; :class:`ManifestError` if wrong."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ManifestError(f"{where}: [[sensors]] must be an array of tables")
    out = [_one(item, root, f"{where}: sensors[{i}]", scene_crs) for i, item in enumerate(raw)]
    if len({s.name for s in out}) != len(out):
        raise ManifestError(f"{where}: sensors names must be unique")
    return tuple(out)


def _one(d: Any, root: Path, at: str, scene_crs: str | None) -> SensorSourceSpec:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(d, dict):
        raise ManifestError(f"{at}: must be a table")
    name = d.get("name", "sensors")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ManifestError(f"{at}: name {name!r} must be lowercase letters, digits or '_' (at most 32)")
    url, pages = d.get("url"), d.get("pages")
    if (url is None) == (pages is None):
        raise ManifestError(f"{at}: give either 'url' (a SensorThings server) or 'pages' (recorded files)")
    paths: tuple[Path, ...] = ()
    hosts: tuple[str, ...] = ()
    if pages is not None:
        if isinstance(pages, str):
            pages = [pages]
        if not isinstance(pages, list) or not pages or not all(isinstance(p, str) for p in pages):
            raise ManifestError(f"{at}: 'pages' must be a file name or a list of them")
        paths = tuple(root / p for p in pages)
        for p in paths:
            if not p.is_file():
                raise ManifestError(f"{at}: file {p} does not exist")
    else:
        parts = urlsplit(str(url))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ManifestError(f"{at}: url {url!r} must be an http(s) URL with a host")
        raw_hosts = d.get("allowed_hosts", [parts.hostname])
        if not isinstance(raw_hosts, list) or not all(isinstance(h, str) and h for h in raw_hosts):
            raise ManifestError(f"{at}: 'allowed_hosts' must be a list of host names")
        hosts = tuple(h.lower() for h in raw_hosts)
        if parts.hostname.lower() not in hosts:
            raise ManifestError(f"{at}: the url's host {parts.hostname!r} is not in allowed_hosts")
    kind = d.get("kind")
    if kind is not None and kind not in ("bicycle", "car", "other"):
        raise ManifestError(f"{at}: kind {kind!r} must be bicycle, car or other")
    tz = str(d.get("timezone", "UTC"))
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ManifestError(f"{at}: unknown timezone {tz!r}") from exc
    bbox = d.get("bbox")
    try:
        spec = SensorSourceSpec(
            name=name,
            url=str(url) if url is not None else None,
            pages=paths,
            filter=_opt_str(d, "filter", at),
            expand=_opt_str(d, "expand", at),
            top=int(d.get("top", 100)),
            margin=float(d.get("margin", 500.0)),
            bbox=tuple(float(v) for v in bbox) if bbox is not None else None,  # type: ignore[arg-type]
            refresh=float(d.get("refresh", 900.0)),
            allowed_hosts=hosts,
            timeout=float(d.get("timeout", 20.0)),
            max_pages=int(d.get("max_pages", 200)),
            max_page_bytes=int(d.get("max_page_bytes", 32 * 1024 * 1024)),
            kind=kind,
            crs=str(d.get("crs", "EPSG:4326")),
            fallback_crs=d.get("fallback_crs", scene_crs),
            timezone=tz,
        )
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"{at}: bad value: {exc}") from exc
    if spec.bbox is not None and len(spec.bbox) != 4:
        raise ManifestError(f"{at}: bbox must be [west, south, east, north] in degrees")
    if not (1 <= spec.top <= 10_000 and spec.margin >= 0 and spec.refresh >= 10 and spec.timeout > 0):
        raise ManifestError(f"{at}: top must be 1..10000, margin >= 0, refresh >= 10 s, timeout > 0")
    if spec.max_pages < 1 or spec.max_page_bytes < 1024:
        raise ManifestError(f"{at}: max_pages must be >= 1 and max_page_bytes >= 1024")
    return spec


def _opt_str(d: dict[str, Any], key: str, at: str) -> str | None:
    v = d.get(key)
    if v is not None and not isinstance(v, str):
        raise ManifestError(f"{at}: '{key}' must be a string")
    return v
