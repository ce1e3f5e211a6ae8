"""The one I/O module of twin.sensors: SensorThings pages from a live server or from recorded files.

Live fetching is guarded: only http(s) to hosts on the source's allow-list, every address the host resolves
to (and the address actually connected to) must be public, redirects only within the same host, bounded
pages and bytes, a time-out per request and retries with back-off. A ``nextLink`` seen before ends paging.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from twin.errors import SourceError
from twin.sensors.parse import Page, ParseOptions, Region, parse_page
from twin.sensors.records import IngestReport, Observation, Station
from twin.sensors.spec import SensorSourceSpec

AddressCheck = Callable[[str], bool]
USER_AGENT = "urban-twin-sensors/1"
MAX_REDIRECTS = 5


class FetchRefused(SourceError):
    """A URL the server will not fetch: a host not allowed, a private address, a redirect elsewhere."""


class UpstreamError(SourceError):
    """A SensorThings server did not answer usefully: time-out, refused connection, HTTP error, bad JSON."""

    #: Worth asking again (time-outs, refused connections, 5xx); a 4xx says the request itself is wrong.
    transient = True


class RequestRejected(UpstreamError):
    """The server answered 4xx: the source's URL, ``$filter`` or ``$expand`` is wrong; retrying will not help."""

    transient = False


class PageTooLarge(UpstreamError):
    """A page is larger than the source's ``max_page_bytes``."""


def is_public_address(ip: str) -> bool:
    """True for a globally routable unicast address (not loopback, private, link-local, reserved, ...)."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_global and not addr.is_multicast


def _check_url(url: str, allowed_hosts: tuple[str, ...], address_ok: AddressCheck) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise FetchRefused(f"refusing {url!r}: only http(s) URLs with a host are fetched")
    if host not in allowed_hosts:
        raise FetchRefused(f"refusing {url!r}: host {host!r} is not in the source's allowed_hosts")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UpstreamError(f"cannot resolve {host!r}: {exc}") from exc
    for info in infos:
        ip = str(info[4][0])
        if not address_ok(ip):
            raise FetchRefused(f"refusing {url!r}: {host!r} resolves to {ip}, not a public address")
    target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return parts.scheme, host, port, target


def _checked_connection(address_ok: AddressCheck) -> Callable[..., socket.socket]:
    """``socket.create_connection`` that refuses a peer address ``address_ok`` rejects (DNS rebinding)."""

    def create(address: tuple[str, int], timeout: Any = None, source_address: Any = None) -> socket.socket:
        sock = socket.create_connection(address, timeout, source_address)
        peer = str(sock.getpeername()[0])
        if not address_ok(peer):
            sock.close()
            raise FetchRefused(f"refusing {address[0]!r}: connected to {peer}, not a public address")
        return sock

    return create


def get_json(
    url: str,
    allowed_hosts: tuple[str, ...],
    *,
    timeout: float = 20.0,
    max_bytes: int = 32 * 1024 * 1024,
    address_ok: AddressCheck = is_public_address,
) -> Any:
    """GET ``url`` and decode its JSON, under every guard of this module."""
    for _ in range(MAX_REDIRECTS + 1):
        scheme, host, port, target = _check_url(url, allowed_hosts, address_ok)
        cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        conn = cls(host, port, timeout=timeout)
        conn._create_connection = _checked_connection(address_ok)  # type: ignore[attr-defined]
        try:
            conn.request("GET", target, headers={"Accept": "application/json", "User-Agent": USER_AGENT})
            resp = conn.getresponse()
            if 300 <= resp.status < 400 and resp.getheader("Location"):
                nxt = urljoin(url, resp.getheader("Location", ""))
                if (urlsplit(nxt).hostname or "").lower() != host or urlsplit(nxt).scheme != scheme:
                    raise FetchRefused(f"refusing the redirect of {url!r} to another host: {nxt!r}")
                url = nxt
                continue
            if resp.status != 200:
                error = RequestRejected if 400 <= resp.status < 500 else UpstreamError
                detail = resp.read(500).decode("utf-8", "replace").strip()
                raise error(f"{url}: HTTP {resp.status} {resp.reason}" + (f": {detail}" if detail else ""))
            body = resp.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise PageTooLarge(f"{url}: page larger than {max_bytes} bytes")
        except TimeoutError as exc:
            raise UpstreamError(f"{url}: timed out after {timeout:g} s") from exc
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, SourceError):
                raise
            raise UpstreamError(f"{url}: {exc}") from exc
        finally:
            conn.close()
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested too deeply
            raise UpstreamError(f"{url}: not JSON: {exc}") from exc
    raise FetchRefused(f"refusing {url!r}: more than {MAX_REDIRECTS} redirects")


def first_url(spec: SensorSourceSpec) -> str:
    """The source's first page: its URL with ``$top``, ``$filter`` and ``$expand`` added (kept if present)."""
    assert spec.url is not None
    parts = urlsplit(spec.url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.setdefault("$top", str(spec.top))
    if spec.filter:
        query.setdefault("$filter", spec.filter)
    if spec.expand:
        query.setdefault("$expand", spec.expand)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, safe="$(),;/'="), ""))


def _with_top(url: str, top: int) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query["$top"] = str(top)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, safe="$(),;/'="), ""))


def _top(url: str, default: int) -> int:
    value = dict(parse_qsl(urlsplit(url).query)).get("$top", "")
    return int(value) if value.isdigit() else default


def _canonical(url: str) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
    """A URL as a loop detector sees it: the same page however its query is ordered or encoded."""
    p = urlsplit(url)
    return p.scheme, p.netloc.lower(), p.path, tuple(sorted(parse_qsl(p.query, keep_blank_values=True)))


def live_pages(
    spec: SensorSourceSpec,
    report: IngestReport,
    *,
    address_ok: AddressCheck = is_public_address,
    retries: int = 3,
    backoff: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[tuple[str, Any]]:
    """``(url, page)`` of a live source, following ``@iot.nextLink`` (bounded, loop-safe).

    A transient failure is retried ``retries`` times with doubling back-off; a page over ``max_page_bytes``
    is asked again with half the ``$top`` (up to three times). What still fails is reported under the source's
    name and raised as :class:`UpstreamError` after the pages already yielded.
    """
    url = first_url(spec)
    seen: set[tuple[str, str, str, tuple[tuple[str, str], ...]]] = set()
    for _ in range(spec.max_pages):
        key = _canonical(url)
        if key in seen:
            report.skip(spec.name, "nextLink loops", url)
            return
        seen.add(key)
        doc = _get_page(spec, url, report, address_ok, retries, backoff, sleep)
        yield url, doc
        nxt = doc.get("@iot.nextLink") if isinstance(doc, dict) else None
        if not isinstance(nxt, str) or not nxt:
            return
        url = urljoin(url, nxt)
    report.skip(spec.name, "too many pages", f"stopped after {spec.max_pages} pages")


def _get_page(
    spec: SensorSourceSpec,
    url: str,
    report: IngestReport,
    address_ok: AddressCheck,
    retries: int,
    backoff: float,
    sleep: Callable[[float], None],
) -> Any:
    halvings = 0
    attempt = 0
    while True:
        try:
            return get_json(
                url, spec.allowed_hosts, timeout=spec.timeout, max_bytes=spec.max_page_bytes, address_ok=address_ok
            )
        except PageTooLarge as exc:
            top = _top(url, spec.top)
            if halvings >= 3 or top <= 1:
                report.skip(spec.name, "huge page", str(exc))
                raise
            halvings += 1
            url = _with_top(url, top // 2)
            report.repair(spec.name, "huge page", f"asked again with $top={top // 2}")
        except FetchRefused as exc:
            report.skip(spec.name, "fetch refused", str(exc))
            raise
        except UpstreamError as exc:
            attempt += 1
            if attempt > retries or not exc.transient:
                reason = "upstream timed out" if "timed out" in str(exc) else "upstream unreachable"
                reason = reason if exc.transient else "upstream rejected the request"
                report.skip(spec.name, reason, str(exc))
                raise
            sleep(backoff * 2 ** (attempt - 1))


def recorded_pages(spec: SensorSourceSpec, report: IngestReport) -> Iterator[tuple[str, Any]]:
    """``(path, page)`` of each recorded file; their ``nextLink``s point at the live server and stay unfollowed."""
    for path in spec.pages:
        try:
            size = Path(path).stat().st_size
            if size > spec.max_page_bytes:
                report.skip(spec.name, "huge page", f"{path}: {size} bytes > {spec.max_page_bytes}")
                continue
            doc = json.loads(Path(path).read_bytes())
        except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
            report.skip(spec.name, "unreadable page", f"{path}: {exc}")
            continue
        if isinstance(doc, dict) and doc.get("@iot.nextLink"):
            report.count("recorded_next_links_not_followed")
        yield str(path), doc


@dataclass
class SourceResult:
    """Everything one source gave: stations (deduplicated), observations, its report and an upstream error."""

    stations: list[Station] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    report: IngestReport = field(default_factory=IngestReport)
    error: str | None = None


def read_source(
    spec: SensorSourceSpec, region: Region | None, *, address_ok: AddressCheck = is_public_address, **retry: Any
) -> SourceResult:
    """Read a source (live or recorded) into records; an unreachable upstream keeps the pages read so far."""
    out = SourceResult()
    options = ParseOptions(spec.name, spec.crs, spec.fallback_crs, spec.kind, region)
    pages = (
        live_pages(spec, out.report, address_ok=address_ok, **retry) if spec.live else recorded_pages(spec, out.report)
    )
    stations: dict[str, Station] = {}
    try:
        for url, doc in pages:
            page: Page = parse_page(doc, out.report, options, url)
            for st in page.stations:
                stations.setdefault(st.id, st)
            out.observations.extend(page.observations)
    except SourceError as exc:
        out.error = str(exc)
    out.stations = list(stations.values())
    return out
