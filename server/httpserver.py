"""uvicorn's httptools protocol with the deadlines it lacks: slow clients are cut off, not served forever.

uvicorn (0.3x–0.5x) closes idle keep-alive connections (``timeout_keep_alive``) and answers 503 past
``limit_concurrency``, but it has no deadline for a request's headers or body: a client that sends a header
line every few seconds, or dribbles its body, holds its connection (and a file descriptor) for as long as it
likes. :class:`GuardedProtocol` adds, per connection:

- a **header deadline**: the request line and all headers within ``header_timeout_seconds`` of the
  connection opening (or of the first byte of the next request on a kept-alive connection), else 408 and close;
- a **body rate**: after ``body_grace_seconds`` the body must keep arriving at ``body_min_bytes_per_second``
  on average (a 200 MB upload at 10 kB/s may take hours; one byte every few seconds may not), else 408 and
  close. Time while *we* paused reading (the app is busy with earlier chunks) does not count against it;
- a **per-client cap**: at most ``max_connections_per_client`` open connections from one address (reverse
  proxies named in ``trusted_proxies`` are exempt), else 503 and close.

``twin serve`` passes this class as uvicorn's ``http`` protocol; the limits come from the same settings
(``TWIN_*``), read once per worker process.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import get_remote_addr

from server.settings import Settings, load_settings

TIMEOUT_408 = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
BUSY_503 = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\nretry-after: 5\r\n\r\n"

#: Open connections per client address in this worker process.
_OPEN: Counter[str] = Counter()


@functools.cache
def _settings() -> Settings:
    return load_settings()


class GuardedProtocol(HttpToolsProtocol):
    """HttpToolsProtocol plus a header deadline, a minimum body rate and a per-client connection cap."""

    settings: Settings | None = None  # tests may set it; else the TWIN_* settings of this process

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = self.settings or _settings()
        self._timer: asyncio.TimerHandle | None = None
        self._body_started = 0.0
        self._body_bytes = 0
        self._peer: str | None = None

    # connection ----------------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        peer = get_remote_addr(transport)
        address = peer[0] if peer else ""
        self._peer = address
        _OPEN[address] += 1
        cap = self.limits.max_connections_per_client
        if cap and _OPEN[address] > cap and address not in self.limits.trusted_proxies:
            transport.write(BUSY_503)
            transport.close()
            return
        self._arm(self.limits.header_timeout_seconds, self._headers_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._forget()
        super().connection_lost(exc)

    def _forget(self) -> None:
        """Stop counting this connection against its client's cap (closed, or handed to WebSockets)."""
        if self._peer is None:
            return
        _OPEN[self._peer] -= 1
        if _OPEN[self._peer] <= 0:
            del _OPEN[self._peer]
        self._peer = None

    def data_received(self, data: bytes) -> None:
        if self._timer is None and (self.cycle is None or self.cycle.response_complete):
            # The first bytes of the next request on a kept-alive connection: its headers' clock starts.
            self._arm(self.limits.header_timeout_seconds, self._headers_too_slow)
        super().data_received(data)

    def handle_websocket_upgrade(self) -> None:
        # The WebSocket protocol takes over the connection (with its own pings); its connection_lost is
        # not ours, so the connection stops counting here.
        self._disarm()
        self._forget()
        super().handle_websocket_upgrade()

    # request ---------------------------------------------------------------------------------------------
    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
        self._body_started = self.loop.time()
        self._body_bytes = 0
        self._arm(self.limits.body_grace_seconds, self._check_body)

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    # deadlines -------------------------------------------------------------------------------------------
    def _arm(self, delay: float, callback: Any) -> None:
        self._disarm()
        self._timer = self.loop.call_later(max(0.0, delay), callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _headers_too_slow(self) -> None:
        self._timer = None
        self._cut()

    def _check_body(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        if self.flow is not None and self.flow.read_paused:
            # We stopped reading, not the client: come back later and do not count this second.
            self._body_started += 1.0
            self._arm(1.0, self._check_body)
            return
        allowed = self.limits.body_grace_seconds + self._body_bytes / max(1, self.limits.body_min_bytes_per_second)
        left = self._body_started + allowed - self.loop.time()
        if left > 0:
            self._arm(left, self._check_body)
        else:
            self._cut()

    def _cut(self) -> None:
        """Answer 408 if nothing was answered yet, and close the connection."""
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(TIMEOUT_408)
        if self.cycle is not None:
            self.cycle.keep_alive = False
        self.transport.close()
