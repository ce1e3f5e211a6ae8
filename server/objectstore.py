"""Tiles from an object store: ``/tiles`` answered from published scenes on S3 (``TWIN_STORE_URL``).

:class:`ObjectTileServer` is :class:`server.tiles.TileServer` with a different source for published files:
the key ``<scene>/builds/<build>/<path>`` of the store (``<scene>/public-blobs/<blob>`` for blobs of earlier
publishes). Everything the tile server promises holds: ETag, Range, HEAD, CORS, immutable caching of blobs,
the ``.br``/``.gz`` siblings written at publish time. Previews of drafts still come from the local folder:
draft bytes never reach the bucket.

Per request the work stays in memory: the published pointer object is read at most once per
``store_pointer_ttl_seconds`` per scene (a publish is seen by every worker within that time; the pointer
is the only object that ever changes), and a file's bytes and header lines are fetched once per worker and
kept in an LRU, like the directory store's. Files above ``tile_cache_file_bytes`` are streamed from the store
by range per request. ``TWIN_TILES_REDIRECT=presigned`` answers published blobs with a 307 to a presigned
URL of ``public-blobs/`` (a private bucket); a base URL redirects there without signing (a CDN or a bucket
whose policy makes ``*/public-blobs/*`` readable).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import obstore
from obstore.exceptions import BaseError

from server.store import NAME_RE, SceneStore
from server.tiles import (
    CHUNK,
    COMPRESSIBLE,
    MEDIA_TYPES,
    SEGMENT_RE,
    Entry,
    Receive,
    Scope,
    Send,
    TileServer,
)
from twin.errors import StoreError
from twin.storage import ObjectStorage

#: Lifetime of a presigned redirect; one URL is handed out for half of it, then a fresh one is signed.
PRESIGN_SECONDS = 600


class ObjectTileServer(TileServer):
    """The tile server over an object store (module docstring)."""

    def __init__(self, store: SceneStore, objects: ObjectStorage, pointer_ttl: float = 1.0, **kwargs: Any) -> None:
        super().__init__(store, **kwargs)
        self.objects = objects
        self.pointer_ttl = pointer_ttl
        self.presign = self.redirect == "presigned"
        #: scene -> (monotonic deadline, published build or None).
        self._builds: dict[str, tuple[float, str | None]] = {}
        #: request path -> (build, monotonic deadline, entry), LRU by bytes.
        self._ready: OrderedDict[str, tuple[str, float, Entry]] = OrderedDict()
        self._ready_bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if scope["method"] in ("GET", "HEAD") and path.startswith("/tiles/"):
            try:
                await self._prepare(path)
            except (BaseError, OSError, StoreError, ValueError) as exc:
                await self._error(send, 503, f"object store unavailable: {type(exc).__name__}", [])
                return
        await super().__call__(scope, receive, send)

    def lookup(self, path: str) -> Entry | None:
        """Published files: what :meth:`_prepare` just made ready; previews: the local draft folders."""
        if path.startswith("/tiles/"):
            hit = self._ready.get(path)
            return hit[2] if hit is not None else None
        return super().lookup(path)

    # resolution --------------------------------------------------------------------------------------
    async def published_build(self, scene: str) -> str | None:
        """The published build of ``scene`` from its pointer object, trusted for ``pointer_ttl`` seconds."""
        now = time.monotonic()
        hit = self._builds.get(scene)
        if hit is not None and hit[0] > now:
            return hit[1]
        build: str | None = None
        try:
            result = await obstore.get_async(self.objects.store, f"{scene}/published.json")
            data = json.loads(bytes(await result.bytes_async()))
            value = data.get("build") if isinstance(data, dict) else None
            build = value if isinstance(value, str) and NAME_RE.match(value) else None
        except FileNotFoundError:
            build = None
        self._builds[scene] = (now + self.pointer_ttl, build)
        return build

    async def _prepare(self, path: str) -> None:
        """Make ``self._ready[path]`` the entry of the published file (or drop it if there is none)."""
        parts = path.split("/")
        scene, rest = (parts[2], parts[3:]) if len(parts) >= 4 else ("", [])
        suffix = os.path.splitext(rest[-1])[1].lower() if rest else ""
        ok = NAME_RE.match(scene) and rest and all(SEGMENT_RE.match(p) for p in rest) and suffix in MEDIA_TYPES
        build = await self.published_build(scene) if ok else None
        hit = self._ready.get(path)
        if build is not None and hit is not None and hit[0] == build and hit[1] > time.monotonic():
            self._ready.move_to_end(path)
            return
        entry = await self._fetch(scene, build, rest, suffix) if build is not None else None
        if hit is not None:
            self._forget(path)
        if entry is not None and build is not None:
            self._keep(path, build, entry)

    async def _fetch(self, scene: str, build: str, rest: list[str], suffix: str) -> Entry | None:
        blob = len(rest) == 2 and rest[0] == "blobs"
        public = f"{scene}/public-blobs/{rest[-1]}"
        if blob and (self.redirect or self.accel) and await self._exists(public):
            if not self.presign:
                return self.offload(scene, rest[1], suffix)
            url = self.objects.signed_url(public, PRESIGN_SECONDS)
            headers = [
                (b"content-type", MEDIA_TYPES[suffix]),
                (b"cache-control", f"public, max-age={PRESIGN_SECONDS // 2}".encode()),
                (b"content-length", b"0"),
                (b"location", url.encode()),
            ]
            return Entry(Path(public), 0, b"", headers, b"", {}, True, 307)
        entry = await self._load_object(f"{scene}/builds/{build}/{'/'.join(rest)}", suffix, rest[0] == "blobs")
        if entry is None and blob:  # a blob of an earlier published build
            entry = await self._load_object(public, suffix, True)
        return entry

    async def _exists(self, key: str) -> bool:
        try:
            await obstore.head_async(self.objects.store, key)
        except FileNotFoundError:
            return False
        return True

    async def _get(self, key: str) -> bytes | None:
        try:
            result = await obstore.get_async(self.objects.store, key)
        except FileNotFoundError:
            return None
        return bytes(await result.bytes_async())

    async def _load_object(self, key: str, suffix: str, immutable: bool) -> Entry | None:
        try:
            result = await obstore.get_async(self.objects.store, key)
        except FileNotFoundError:
            return None
        size = int(result.meta["size"])
        common = self.common_headers(suffix, immutable, False)
        if size > self.file_limit:
            # Too big to keep: the store's ETag names it; its bytes are read by range per request.
            tag = str(result.meta.get("e_tag") or f"{size:x}").strip('"')
            etag = f'"{tag}"'.encode()
            return Entry(Path(key), size, etag, [*common, (b"etag", etag)], key=key)
        body = bytes(await result.bytes_async())
        packed: dict[str, bytes] = {}
        if suffix in COMPRESSIBLE:
            br, gz = await asyncio.gather(self._get(key + ".br"), self._get(key + ".gz"))
            packed = {enc: data for enc, data in (("br", br), ("gzip", gz)) if data is not None}
        return self.entry_for(Path(key), body, suffix, common, packed)

    # memory ------------------------------------------------------------------------------------------
    def _keep(self, path: str, build: str, entry: Entry) -> None:
        deadline = math.inf
        if entry.offloaded and entry.status == 307 and self.presign:
            deadline = time.monotonic() + PRESIGN_SECONDS / 2
        self._forget(path)  # two requests may have fetched the same file at once: count it once
        self._ready[path] = (build, deadline, entry)
        self._ready_bytes += _cost(entry)
        while self._ready_bytes > self.cache_bytes and len(self._ready) > 1:
            _, (_, _, old) = self._ready.popitem(last=False)
            self._ready_bytes -= _cost(old)

    def _forget(self, path: str) -> None:
        old = self._ready.pop(path, None)
        if old is not None:
            self._ready_bytes -= _cost(old[2])

    async def _stream_entry(self, send: Send, entry: Entry, offset: int, length: int) -> None:
        if entry.key is None:
            await super()._stream_entry(send, entry, offset, length)
            return
        end = offset + length
        while offset < end:
            n = min(CHUNK, end - offset)
            chunk = bytes(await obstore.get_range_async(self.objects.store, entry.key, start=offset, length=n))
            offset += n
            await send({"type": "http.response.body", "body": chunk, "more_body": offset < end})


def _cost(entry: Entry) -> int:
    return (len(entry.body) if entry.body else 0) + sum(len(e[2]) for e in entry.encoded.values())


def make_tile_server(settings: Any, store: SceneStore) -> TileServer:
    """The tile server ``settings`` ask for: over the directory, or over ``store.objects``; offloading or not."""
    redirect, accel = settings.tiles_redirect, settings.accel_redirect
    if redirect and accel:
        raise StoreError("set one of TWIN_TILES_REDIRECT and TWIN_ACCEL_REDIRECT, not both")
    kwargs: dict[str, Any] = {
        "cache_bytes": settings.tile_cache_bytes,
        "file_limit": settings.tile_cache_file_bytes,
        "cors_origins": settings.cors_origins,
        "redirect": redirect,
        "accel": accel,
    }
    if store.objects is None:
        if redirect == "presigned":
            raise StoreError("TWIN_TILES_REDIRECT=presigned needs an s3:// TWIN_STORE_URL")
        return TileServer(store, **kwargs)
    return ObjectTileServer(store, store.objects, settings.store_pointer_ttl_seconds, **kwargs)
