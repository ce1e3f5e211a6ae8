"""Object storage for build output: one small API over S3 (and compatible stores), a local folder or memory.

A build folder on an object store is the same tree of keys as on disk (``tileset.json``, ``blobs/<hash>.glb``,
``variants/<v>/tileset.json``, ``scene.json``). Object stores have no rename, so :func:`upload_folder` keeps
the builder's all-or-nothing promise by order instead: content-addressed blobs first, then the other files,
the tileset.json files after that and ``scene.json`` (the mark of a complete build) last. A reader that finds
``scene.json`` finds everything it names; a failed upload leaves a build without one, which nobody serves.

The client is obstore (Rust's ``object_store``): ``s3://bucket/prefix`` reads its credentials and region from
the usual ``AWS_*`` variables; ``TWIN_S3_ENDPOINT`` (or ``AWS_ENDPOINT_URL``) points it at MinIO, moto or any
other S3; ``file:///path`` and ``memory://`` give the same API on a folder or in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import obstore
from obstore.exceptions import BaseError, NotFoundError
from obstore.store import LocalStore, MemoryStore, ObjectStore, S3Store

from .errors import StoreError

#: Names written last, in this order: a reader that sees scene.json sees a whole build.
LAST = ("tileset.json", "scene.json")
#: Seconds to connect to the object store, and for one request with its retries.
CONNECT_TIMEOUT = 5.0
REQUEST_TIMEOUT = 30.0
#: Parallel uploads of one folder (object stores answer each request in milliseconds; the work is waiting).
UPLOAD_THREADS = 16


class ObjectStoreUnavailable(StoreError):
    """The object store could not be reached or refused a request (credentials, network, the store down)."""


def is_url(target: str | os.PathLike[str]) -> bool:
    """True for ``scheme://...`` (an object store), False for a local path."""
    return "://" in str(target)


class ObjectStorage:
    """Keys under one prefix of an object store; ``url`` is ``s3://bucket/prefix``, ``file:///dir`` or ``memory://``."""

    def __init__(self, url: str, endpoint: str | None = None) -> None:
        self.url = url.rstrip("/")
        scheme, _, rest = self.url.partition("://")
        self.scheme = scheme.lower()
        self.bucket, _, self.prefix = rest.partition("/")
        self.endpoint = endpoint or os.environ.get("TWIN_S3_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL")
        try:
            self.store = self._open()
        except (BaseError, ValueError, OSError) as exc:
            raise StoreError(f"cannot open object store {self.url!r}: {exc}") from exc

    def _open(self) -> ObjectStore:
        if self.scheme == "memory":
            return MemoryStore()
        if self.scheme == "file":
            root = Path("/" + self.url.partition("://")[2].lstrip("/"))
            root.mkdir(parents=True, exist_ok=True)
            return LocalStore(root)
        if self.scheme != "s3":
            raise StoreError(f"object store {self.url!r}: only s3://, file:// and memory:// are supported")
        config: dict[str, Any] = {}
        if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
            config["region"] = "us-east-1"
        client: dict[str, Any] = {}
        if self.endpoint:
            config["endpoint"] = self.endpoint
            client["allow_http"] = self.endpoint.startswith("http://")
        # A store that is down must fail a request in seconds (the server answers 503), not retry for minutes.
        client.update(connect_timeout=timedelta(seconds=CONNECT_TIMEOUT), timeout=timedelta(seconds=REQUEST_TIMEOUT))
        retry: dict[str, Any] = {"max_retries": 3, "retry_timeout": timedelta(seconds=REQUEST_TIMEOUT)}
        return S3Store(
            self.bucket,
            prefix=self.prefix or None,
            config=config,  # type: ignore[arg-type]
            client_options=client,  # type: ignore[arg-type]
            retry_config=retry,  # type: ignore[arg-type]
        )

    def __repr__(self) -> str:
        return f"ObjectStorage({self.url!r})"

    # reading ------------------------------------------------------------------------------------------
    def get(self, key: str) -> bytes:
        """The bytes of ``key``; :class:`FileNotFoundError` if it is absent."""
        try:
            return bytes(obstore.get(self.store, key).bytes())
        except (NotFoundError, FileNotFoundError) as exc:
            raise FileNotFoundError(f"{self.url}/{key}") from exc
        except BaseError as exc:
            raise ObjectStoreUnavailable(f"cannot read {self.url}/{key}: {exc}") from exc

    def size(self, key: str) -> int | None:
        """The size of ``key`` in bytes, None if it is absent."""
        try:
            return int(obstore.head(self.store, key)["size"])
        except (NotFoundError, FileNotFoundError):
            return None
        except BaseError as exc:
            raise ObjectStoreUnavailable(f"cannot read {self.url}/{key}: {exc}") from exc

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key under ``prefix`` (a folder: ``scene/builds/b1``), relative to the store's prefix."""
        try:
            for chunk in obstore.list(self.store, prefix.strip("/") or None):
                for meta in chunk:
                    yield str(meta["path"])
        except BaseError as exc:
            raise ObjectStoreUnavailable(f"cannot list {self.url}/{prefix}: {exc}") from exc

    def folders(self, prefix: str = "") -> list[str]:
        """Names of the "folders" directly under ``prefix`` (common prefixes), sorted."""
        try:
            listing = obstore.list_with_delimiter(self.store, prefix.strip("/") or None)
        except BaseError as exc:
            raise ObjectStoreUnavailable(f"cannot list {self.url}/{prefix}: {exc}") from exc
        return sorted(p.rstrip("/").rpartition("/")[2] for p in listing["common_prefixes"])

    def signed_url(self, key: str, seconds: float) -> str:
        """A presigned GET URL of ``key`` valid for ``seconds`` (S3 only)."""
        if not isinstance(self.store, S3Store):
            raise StoreError(f"{self.url}: only S3 stores sign URLs")
        try:
            return obstore.sign(self.store, "GET", key, timedelta(seconds=seconds))
        except BaseError as exc:
            raise ObjectStoreUnavailable(f"cannot sign {self.url}/{key}: {exc}") from exc

    # writing ------------------------------------------------------------------------------------------
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` as ``key`` (an object appears whole or not at all)."""
        try:
            obstore.put(self.store, key, data)
        except BaseError as exc:
            raise ObjectStoreUnavailable(f"cannot write {self.url}/{key}: {exc}") from exc

    def delete(self, keys: Iterable[str]) -> None:
        """Remove ``keys`` (absent ones are fine)."""
        batch = list(keys)
        if not batch:
            return
        try:
            obstore.delete(self.store, batch)
        except (NotFoundError, FileNotFoundError):
            pass
        except BaseError as exc:
            raise ObjectStoreUnavailable(f"cannot delete under {self.url}: {exc}") from exc


def _rank(rel: str) -> tuple[int, int, str]:
    """Upload order: blobs, other files, tileset.json files (deepest first), scene.json."""
    name = rel.rpartition("/")[2]
    if name == "scene.json" and "/" not in rel:
        return (3, 0, rel)
    if name == "tileset.json":
        return (2, -rel.count("/"), rel)
    return (0 if rel.startswith("blobs/") else 1, 0, rel)


def folder_files(folder: Path) -> list[str]:
    """The files of a build folder as relative POSIX paths in upload order; hidden ones (.cache, temps) left out."""
    rels = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or path.is_dir():
            continue
        rels.append(rel.as_posix())
    return sorted(rels, key=_rank)


def upload_folder(folder: Path, storage: ObjectStorage, prefix: str, skip: Iterable[str] = ()) -> int:
    """Copy a build folder to ``prefix`` in the store in a reader-safe order (module docstring); returns a count.

    Files of one rank go up in parallel; the next rank starts only when the last one has landed, so scene.json
    (and each tileset.json) appears only after everything it names. ``skip``: relative paths already there.
    """
    folder = Path(folder)
    skipped = set(skip)
    rels = [r for r in folder_files(folder) if r not in skipped]

    def send(rel: str) -> None:
        try:
            data = (folder / rel).read_bytes()
        except OSError as exc:
            raise StoreError(f"cannot read {folder / rel} for upload: {exc}") from exc
        storage.put(f"{prefix.strip('/')}/{rel}" if prefix.strip("/") else rel, data)

    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        rank = None
        batch: list[str] = []
        for rel in [*rels, None]:
            r = _rank(rel)[:2] if rel is not None else None
            if r != rank and batch:
                list(pool.map(send, batch))  # raises the first failure: later ranks never start
                batch = []
            rank = r
            if rel is not None:
                batch.append(rel)
    return len(rels)


def download_folder(storage: ObjectStorage, prefix: str, folder: Path) -> int:
    """Copy every key under ``prefix`` into ``folder`` (the reverse of :func:`upload_folder`); returns a count."""
    base = prefix.strip("/")
    keys = [k for k in storage.keys(base) if k.startswith(base + "/") or not base]
    folder = Path(folder)
    for key in keys:
        rel = key[len(base) + 1 :] if base else key
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(storage.get(key))
    return len(keys)


def open_url(url: str) -> tuple[ObjectStorage, str]:
    """``s3://bucket/a/b`` → (the store of bucket ``bucket``, ``"a/b"``): a folder URL as a store and a prefix."""
    scheme, _, rest = url.rstrip("/").partition("://")
    if scheme.lower() == "file":
        return ObjectStorage(url), ""
    bucket, _, prefix = rest.partition("/")
    return ObjectStorage(f"{scheme}://{bucket}"), prefix
