"""The request guard in front of FastAPI: body limits, the token checked before any body is read, cache headers.

FastAPI reads and parses a JSON body before it resolves dependencies, so without this a request with no token
could make the server hold and parse any body it likes before answering 401. :class:`Guard` runs first, on the
raw ASGI messages (the tile fast path in :mod:`server.tiles` never reaches it):

- a declared ``Content-Length`` over the route's limit is answered 413 at once; a body that grows past it
  while streaming is cut off with 413 (the app sees a disconnect);
- a request that carries a body to a route that needs a token, or that names a token at all, has its token
  checked first: 401 without reading a byte of the body;
- planner, admin and moderation answers get ``Cache-Control: no-store``; public documents whose links are
  built from the request get ``Vary`` on what built them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool

from server.auth import principal_for
from server.errors import PROBLEM, Unauthenticated, problem_body
from server.settings import Settings
from server.storage import Database
from server.tiles import Message, Receive, Scope, Send

App = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Routes that stream a design file; every other body is JSON and held whole.
UPLOAD_RE = re.compile(r"^/api/planner/scenes/[^/]+/uploads$")
#: Routes answered only with a token (so their bodies are read only after it is checked).
PRIVATE_RE = re.compile(
    r"^/api/(planner|admin)(/|$)|^/api/visits$|^/api/scenes/[^/]+/participation(/moderation/.*|/analogue)?$"
)
#: Answers that hold private data: never stored by a browser or a shared cache.
NO_STORE_RE = re.compile(r"^/api/(planner|admin)(/|$)|^/api/scenes/[^/]+/participation/moderation")
#: Public answers whose absolute links come from the request (base URL): caches must key on it.
LINKED_RE = re.compile(r"^/api/scenes(/[^/]+)?$|^/ogc(/|$)")
BODY_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))


class BodyTooLarge(Exception):
    """Raised inside the receive wrapper when a streamed body passes its limit."""


class Guard:
    """Checks limits and the token of one request before handing it to ``app`` (see the module docstring)."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.db = db
        self.body_bytes = settings.max_body_bytes
        self.upload_bytes = settings.max_upload_bytes
        self.linked_vary = b"" if settings.public_url else b"Host"

    def limit_for(self, method: str, path: str) -> int:
        """The largest body accepted by ``method path``, bytes."""
        return self.upload_bytes if method == "POST" and UPLOAD_RE.match(path) else self.body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send, app: App) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        length = auth = b""
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"authorization":
                auth = value
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        limit = self.limit_for(method, path)
        if length and not length.strip().isdigit():
            await _answer(send, 400, "Content-Length is not a number", path)
            return
        if length and int(length) > limit:
            await _answer(send, 413, f"the body is {int(length)} bytes, over this route's limit of {limit} bytes", path)
            return
        has_body = method in BODY_METHODS and (chunked or (bool(length) and int(length) > 0))
        if has_body and (auth or PRIVATE_RE.match(path)):
            try:
                await run_in_threadpool(principal_for, self.db, auth.decode("latin-1"))
            except Unauthenticated as exc:
                await _answer(send, 401, str(exc), path, [(b"www-authenticate", b"Bearer")])
                return
        state = {"started": False, "cut": False}
        extra = self._headers_for(path)

        async def guarded_send(message: Message) -> None:
            if state["cut"]:
                return  # the 413 went out; whatever the app answers now is dropped
            if message["type"] == "http.response.start":
                state["started"] = True
                if extra:
                    message["headers"] = _merge(list(message.get("headers", [])), extra)
            await send(message)

        if limit == self.upload_bytes and UPLOAD_RE.match(path):
            # Uploads stream to disk and server.uploads counts (and cleans up) itself.
            await app(scope, receive, guarded_send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if state["cut"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not state["started"]:
                        await _answer(send, 413, f"the body is over this route's limit of {limit} bytes", path)
                    state["cut"] = True
                    return {"type": "http.disconnect"}
            return message

        await app(scope, limited_receive, guarded_send)

    def _headers_for(self, path: str) -> list[tuple[bytes, bytes]]:
        if NO_STORE_RE.match(path):
            return [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
        if LINKED_RE.match(path):
            vary = [(b"vary", self.linked_vary)] if self.linked_vary else []
            return [(b"cache-control", b"public, no-cache"), *vary]
        return []


def _merge(headers: list[tuple[bytes, bytes]], extra: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` plus ``extra``: a header the app set wins, except ``vary``, whose values are joined."""
    names = {n.lower() for n, _ in headers}
    for name, value in extra:
        if name == b"vary" and name in names:
            headers = [(n, v + b", " + value if n.lower() == b"vary" else v) for n, v in headers]
        elif name not in names:
            headers.append((name, value))
    return headers


async def _answer(
    send: Send, status: int, detail: str, path: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A problem+json answer sent straight to the client (the app never saw the request)."""
    body = json.dumps(problem_body(status, detail, path)).encode()
    headers = [
        (b"content-type", PROBLEM.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"connection", b"close"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
