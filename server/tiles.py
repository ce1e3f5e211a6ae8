"""Fast static serving of published tiles: a raw ASGI app that runs before FastAPI's routing.

``/tiles/{scene}/{path}`` serves the file ``path`` of the scene's *published* build;
``/preview/{scene}/{build}/{path}`` serves any complete build (draft previews: build ids are unguessable
and never shown to the public; their answers are ``private``, without CORS or Referer). Relative URIs
inside tileset.json (``blobs/…``, ``../../blobs/…``) resolve to these same routes, so a build folder works
here unchanged.

Why not Starlette's StaticFiles: it stats, opens and reads the file and formats headers on every request
(~37× slower than nginx here). Build folders are immutable once complete, so a file's bytes, its compressed
forms, its ETag and every header line can be computed once per process and kept in an LRU keyed by the
absolute path. The per-request work is: a ``stat`` of the scene's pointer file (so a publish is seen at
once, by every worker), a dict lookup, a header scan, and two ``send`` calls.

Published blobs can leave the process altogether: with ``redirect`` (``TWIN_TILES_REDIRECT``, a CDN or public
bucket base URL) they are answered ``307`` to ``<base>/<scene>/public-blobs/<blob>``; with ``accel``
(``TWIN_ACCEL_REDIRECT``) by an empty answer whose ``X-Accel-Redirect`` names the same path under nginx's
internal location. Both only ever name ``public-blobs/``, which holds published blobs alone: drafts
(``/preview``) and tileset.json are always answered here, so access rules hold whatever is in front.
:mod:`server.objectstore` serves the same routes from an object store.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.store import NAME_RE, SceneStore

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MEDIA_TYPES = {
    ".json": b"application/json",
    ".geojson": b"application/geo+json",
    ".glb": b"model/gltf-binary",
    ".gltf": b"model/gltf+json",
    ".subtree": b"application/octet-stream",
    ".bin": b"application/octet-stream",
    ".b3dm": b"application/octet-stream",
    ".i3dm": b"application/octet-stream",
    ".pnts": b"application/octet-stream",
    ".cmpt": b"application/octet-stream",
    ".png": b"image/png",
    ".jpg": b"image/jpeg",
    ".jpeg": b"image/jpeg",
    ".webp": b"image/webp",
    ".ktx2": b"image/ktx2",
}
COMPRESSIBLE = (".json", ".geojson", ".gltf")
#: One path segment: no leading dot (no ``..``, no hidden temp files), no separators.
SEGMENT_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
IMMUTABLE = b"public, max-age=31536000, immutable"
REVALIDATE = b"public, no-cache"
#: Drafts: only the planner's own browser may keep them, never a shared cache; no Referer leaves with them.
PRIVATE_IMMUTABLE = b"private, max-age=31536000, immutable"
PRIVATE_REVALIDATE = b"private, no-cache"
PRIVATE_EXTRA = [(b"referrer-policy", b"no-referrer"), (b"x-robots-tag", b"noindex")]
CHUNK = 256 * 1024
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
EXPOSE = b"ETag, Content-Length, Content-Range, Content-Encoding, Accept-Ranges"


@dataclass(slots=True)
class Entry:
    """One file ready to send: bytes (None for big files read per request), ETags and header lines."""

    path: Path
    size: int
    etag: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes | None = None
    #: Precompressed forms: encoding -> (etag, header lines, body).
    encoded: dict[str, tuple[bytes, list[tuple[bytes, bytes]], bytes]] = field(default_factory=dict)
    #: Offloaded: a redirect (307 with Location) or nginx's X-Accel-Redirect (200), sent as headers alone.
    offloaded: bool = False
    status: int = 200
    #: The object store key of a big object streamed per request (``path`` is then unused).
    key: str | None = None

    def etags(self) -> set[bytes]:
        """Every ETag a client may hold for this file."""
        return {self.etag, *(e[0] for e in self.encoded.values())}


def _problem(status: int, detail: str) -> bytes:
    title = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 416: "Range Not Satisfiable"}
    return json.dumps(
        {"type": "about:blank", "title": title.get(status, "Error"), "status": status, "detail": detail}
    ).encode()


def _accepts(header: str) -> tuple[bool, bool]:
    """(brotli, gzip) accepted by an Accept-Encoding header (``q=0`` refuses)."""
    br = gz = False
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        refused = params.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000")
        name = name.strip().lower()
        if name == "br":
            br = not refused
        elif name in ("gzip", "x-gzip"):
            gz = not refused
        elif name == "*" and not refused:
            br = gz = True
    return br, gz


def parse_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """A single ``bytes=`` range as inclusive (start, end); None to ignore the header; False if unsatisfiable.

    Multiple ranges and malformed headers are ignored (RFC 9110 allows answering 200 with the whole file).
    """
    m = _RANGE_RE.match(header.strip())
    if not m:
        return None
    first, last = m.groups()
    if not first and not last:
        return None
    if not first:  # suffix range: the last N bytes
        n = int(last)
        if n == 0:
            return False
        return (max(0, size - n), size - 1) if size else False
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        return False
    return start, min(end, size - 1)


class TileServer:
    """The ASGI app behind ``/tiles`` and ``/preview`` (see the module docstring)."""

    def __init__(
        self,
        store: SceneStore,
        cache_bytes: int = 256 << 20,
        file_limit: int = 8 << 20,
        cors_origins: list[str] | None = None,
        redirect: str | None = None,
        accel: str | None = None,
    ) -> None:
        self.store = store
        #: Base URL published blobs are redirected to, and nginx's internal location for X-Accel-Redirect.
        self.redirect = redirect.rstrip("/") if redirect else None
        self.accel = "/" + accel.strip("/") + "/" if accel else None
        self.cache_bytes = cache_bytes
        self.file_limit = min(file_limit, cache_bytes)
        origins = cors_origins if cors_origins is not None else ["*"]
        self.any_origin = "*" in origins
        self.origins = {o.encode() for o in origins}
        self._cache: OrderedDict[str, Entry] = OrderedDict()
        self._cached_bytes = 0
        self._pointers: dict[str, tuple[tuple[int, int, int], Path]] = {}
        #: request path -> (pointer file, pointer stat key, entry): the hot path skips all parsing.
        self._hot: dict[str, tuple[str, tuple[int, int, int] | None, Entry]] = {}

    # resolution --------------------------------------------------------------------------------------
    def published_dir(self, scene: str) -> Path | None:
        """The published build folder of ``scene``, re-read only when the pointer file changed."""
        pointer = self.store.root / scene / "published.json"
        try:
            st = os.stat(pointer)
        except OSError:
            self._pointers.pop(scene, None)
            return None
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        hit = self._pointers.get(scene)
        if hit is not None and hit[0] == key:
            return hit[1]
        build = self.store.published(scene)
        if build is None:
            return None
        folder = self.store.build_dir(scene, build)
        self._pointers[scene] = (key, folder)
        return folder

    def _split(self, path: str) -> tuple[Path, list[str]] | None:
        """(build folder, path segments) for a request path, or None for 404."""
        parts = path.split("/")
        if len(parts) < 4 or parts[0] != "":
            return None
        if parts[1] == "tiles":
            scene, rest = parts[2], parts[3:]
            if not NAME_RE.match(scene):
                return None
            folder = self.published_dir(scene)
        elif parts[1] == "preview" and len(parts) >= 5:
            scene, build, rest = parts[2], parts[3], parts[4:]
            if not NAME_RE.match(scene) or not NAME_RE.match(build):
                return None
            folder = self.store.root / scene / "builds" / build
            if not (folder / "scene.json").is_file():  # a build still being written is not a preview
                return None
        else:
            return None
        if folder is None or not all(SEGMENT_RE.match(p) for p in rest):
            return None
        return folder, rest

    def lookup(self, path: str) -> Entry | None:
        """The entry for a request path; None if there is no such file.

        Hot path: one dict lookup and one ``stat`` of the scene's pointer (a publish changes its inode, so
        the next request sees the new build). Cold path: :meth:`_lookup_cold`.
        """
        hit = self._hot.get(path)
        if hit is not None:
            pointer, key, entry = hit
            if key is None:
                return entry
            try:
                st = os.stat(pointer)
            except OSError:
                st = None
            if st is not None and (st.st_ino, st.st_mtime_ns, st.st_size) == key:
                return entry
            del self._hot[path]
        found = self._lookup_cold(path)
        if found is not None and found.body is not None:
            if len(self._hot) > 200_000:
                self._hot.clear()
            parts = path.split("/")
            if parts[1] == "tiles":
                pointer = str(self.store.root / parts[2] / "published.json")
                cached = self._pointers.get(parts[2])
                if cached is not None:
                    self._hot[path] = (pointer, cached[0], found)
            else:
                self._hot[path] = ("", None, found)
        return found

    def _lookup_cold(self, path: str) -> Entry | None:
        split = self._split(path)
        if split is None:
            return None
        folder, rest = split
        suffix = os.path.splitext(rest[-1])[1].lower()
        if suffix not in MEDIA_TYPES:
            return None
        file = folder.joinpath(*rest)
        private = path.startswith("/preview/")
        if not private and (self.redirect or self.accel) and len(rest) == 2 and rest[0] == "blobs":
            scene = path.split("/")[2]
            if (self.store.public_blob_dir(scene) / rest[1]).is_file():
                return self.offload(scene, rest[1], suffix)
        key = ("p:" if private else "") + str(file)
        entry = self._cache.get(key)
        if entry is not None:
            self._cache.move_to_end(key)
            return entry
        try:
            entry = self._load(file, suffix, immutable=rest[0] == "blobs", private=private)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            if not (path.startswith("/tiles/") and len(rest) == 2 and rest[0] == "blobs"):
                return None
            # A blob of an earlier published build (a viewer still holding the old tileset.json).
            try:
                entry = self._load(self.store.public_blob_dir(path.split("/")[2]) / rest[1], suffix, immutable=True)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                return None
        if entry.body is not None:
            self._remember(key, entry)
        return entry

    def offload(self, scene: str, blob: str, suffix: str) -> Entry:
        """The answer that hands a published blob to the CDN / bucket (307) or to nginx (X-Accel-Redirect)."""
        rel = f"{scene}/public-blobs/{blob}"
        head = [(b"content-type", MEDIA_TYPES[suffix]), (b"cache-control", IMMUTABLE), (b"content-length", b"0")]
        if self.accel:
            return Entry(Path(rel), 0, b"", [*head, (b"x-accel-redirect", (self.accel + rel).encode())], b"", {}, True)
        location = f"{self.redirect}/{rel}".encode()
        return Entry(Path(rel), 0, b"", [*head, (b"location", location)], b"", {}, True, 307)

    @staticmethod
    def common_headers(suffix: str, immutable: bool, private: bool) -> list[tuple[bytes, bytes]]:
        """Content-Type, Cache-Control and the rest every answer for a file of this kind carries."""
        if private:
            cache = PRIVATE_IMMUTABLE if immutable else PRIVATE_REVALIDATE
        else:
            cache = IMMUTABLE if immutable else REVALIDATE
        common = [(b"content-type", MEDIA_TYPES[suffix]), (b"cache-control", cache), (b"accept-ranges", b"bytes")]
        if private:
            common += PRIVATE_EXTRA
        if suffix in COMPRESSIBLE:
            common.append((b"vary", b"Accept-Encoding"))
        return common

    @staticmethod
    def entry_for(
        path: Path, body: bytes, suffix: str, common: list[tuple[bytes, bytes]], packed: dict[str, bytes]
    ) -> Entry:
        """An in-memory entry: the body's ETag and header lines, and its precompressed forms (``br``, ``gzip``)."""
        digest = hashlib.blake2b(body, digest_size=12).hexdigest()
        etag = f'"{digest}"'.encode()
        entry = Entry(path, len(body), etag, [*common, (b"etag", etag)], body)
        for enc, data in packed.items():
            etag_enc = f'"{digest}-{enc}"'.encode()
            headers = [*common, (b"etag", etag_enc), (b"content-encoding", enc.encode())]
            entry.encoded[enc] = (etag_enc, headers, data)
        return entry

    def _load(self, file: Path, suffix: str, immutable: bool, private: bool = False) -> Entry:
        size = os.stat(file).st_size
        common = self.common_headers(suffix, immutable, private)
        if size > self.file_limit:
            # Too big to keep: identify it by inode, size and mtime and stream it per request.
            st = os.stat(file)
            etag = f'"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"'.encode()
            return Entry(file, size, etag, [*common, (b"etag", etag)])
        body = file.read_bytes()
        packed = {}
        if suffix in COMPRESSIBLE:
            for enc, ext in (("br", ".br"), ("gzip", ".gz")):
                try:
                    packed[enc] = file.with_name(file.name + ext).read_bytes()
                except FileNotFoundError:
                    continue
        return self.entry_for(file, body, suffix, common, packed)

    def _remember(self, key: str, entry: Entry) -> None:
        cost = entry.size + sum(len(e[2]) for e in entry.encoded.values())
        self._cache[key] = entry
        self._cached_bytes += cost
        while self._cached_bytes > self.cache_bytes and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cached_bytes -= old.size + sum(len(e[2]) for e in old.encoded.values())

    # ASGI --------------------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        origin = b""
        inm = rng = ae = if_range = b""
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                inm = value
            elif name == b"range":
                rng = value
            elif name == b"accept-encoding":
                ae = value
            elif name == b"origin":
                origin = value
            elif name == b"if-range":
                if_range = value
        # Drafts are for this site's own viewer: no CORS, so no other origin can read a preview.
        cors = self._cors(origin) if scope["path"][1] == "t" else []
        if method == "OPTIONS":
            await self._start(
                send,
                204,
                [
                    *cors,
                    (b"access-control-allow-methods", b"GET, HEAD, OPTIONS"),
                    (b"access-control-allow-headers", b"Range, If-None-Match, If-Range"),
                    (b"access-control-max-age", b"86400"),
                    (b"content-length", b"0"),
                ],
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if method not in ("GET", "HEAD"):
            await self._error(send, 405, "only GET, HEAD and OPTIONS", cors, [(b"allow", b"GET, HEAD, OPTIONS")])
            return
        entry = self.lookup(scope["path"])
        if entry is None:
            await self._error(send, 404, "no such tile file", cors)
            return
        if entry.offloaded:
            # Offloaded (redirect / X-Accel-Redirect): conditionals and ranges are the far end's business.
            await self._start(send, entry.status, [*entry.headers, *cors])
            await send({"type": "http.response.body", "body": b""})
            return
        headers, body = entry.headers, entry.body
        if entry.encoded and ae and not rng:
            br, gz = _accepts(ae.decode("latin-1"))
            enc = "br" if br and "br" in entry.encoded else "gzip" if gz and "gzip" in entry.encoded else ""
            if enc:
                _, headers, body = entry.encoded[enc]
        if inm and self._matches(inm, entry):
            # 304 carries the ETag of the representation this request would get.
            await self._start(send, 304, [*(h for h in headers if h[0] != b"content-type"), *cors])
            await send({"type": "http.response.body", "body": b""})
            return
        if rng and (not if_range or if_range.strip() == entry.etag):
            await self._ranged(send, method, entry, rng.decode("latin-1"), cors)
            return
        length = len(body) if body is not None else entry.size
        await self._start(send, 200, [*headers, (b"content-length", str(length).encode()), *cors])
        if method == "HEAD":
            await send({"type": "http.response.body", "body": b""})
        elif body is not None:
            await send({"type": "http.response.body", "body": body})
        else:
            await self._stream_entry(send, entry, 0, entry.size)

    def _cors(self, origin: bytes) -> list[tuple[bytes, bytes]]:
        if self.any_origin:
            return [(b"access-control-allow-origin", b"*"), (b"access-control-expose-headers", EXPOSE)]
        if origin in self.origins:
            return [
                (b"access-control-allow-origin", origin),
                (b"access-control-expose-headers", EXPOSE),
                (b"vary", b"Origin"),
            ]
        return []

    @staticmethod
    def _matches(header: bytes, entry: Entry) -> bool:
        if header.strip() == b"*":
            return True
        tags = {t.strip().removeprefix(b"W/") for t in header.split(b",")}
        return bool(tags & entry.etags())

    async def _ranged(
        self, send: Send, method: str, entry: Entry, header: str, cors: list[tuple[bytes, bytes]]
    ) -> None:
        span = parse_range(header, entry.size)
        if span is False:
            await self._error(
                send,
                416,
                f"range {header!r} outside 0-{entry.size}",
                cors,
                [(b"content-range", f"bytes */{entry.size}".encode())],
            )
            return
        start, end = span if isinstance(span, tuple) else (0, entry.size - 1)
        status = 206 if isinstance(span, tuple) else 200
        headers = [*entry.headers, *cors, (b"content-length", str(end - start + 1).encode())]
        if status == 206:
            headers.append((b"content-range", f"bytes {start}-{end}/{entry.size}".encode()))
        await self._start(send, status, headers)
        if method == "HEAD":
            await send({"type": "http.response.body", "body": b""})
        elif entry.body is not None:
            await send({"type": "http.response.body", "body": entry.body[start : end + 1]})
        else:
            await self._stream_entry(send, entry, start, end + 1 - start)

    async def _stream_entry(self, send: Send, entry: Entry, offset: int, length: int) -> None:
        """Send ``length`` bytes of a big file from ``offset`` (the object store overrides this)."""
        await self._stream(send, entry.path, offset, length)

    @staticmethod
    async def _stream(send: Send, path: Path, offset: int, length: int) -> None:
        loop = asyncio.get_running_loop()
        with open(path, "rb") as f:
            f.seek(offset)
            while length > 0:
                chunk = await loop.run_in_executor(None, f.read, min(CHUNK, length))
                if not chunk:
                    break
                length -= len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": length > 0})
        if length > 0:  # the file shrank under us: end the body anyway
            await send({"type": "http.response.body", "body": b""})

    @staticmethod
    async def _start(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})

    async def _error(
        self,
        send: Send,
        status: int,
        detail: str,
        cors: list[tuple[bytes, bytes]],
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        body = _problem(status, detail)
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-cache"),
            *cors,
            *(extra or []),
        ]
        await self._start(send, status, headers)
        await send({"type": "http.response.body", "body": body})
