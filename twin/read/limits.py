"""Limits on reading one source file: how far a compressed file may inflate, and how long reading may take.

A hostile or broken source must stop with a clear error naming the file, never fill the memory, the disk or
the build's time. A compressed source (``.osm.gz``, ``.osm.bz2``, ``.gml.gz``, a zipped DEM) may inflate to
at most ``max_inflate_ratio`` times its own size (small files may always reach :data:`MIN_INFLATED_BYTES`:
they compress less and cannot hurt) and never beyond ``max_inflated_bytes``. It is checked as it streams,
in chunks, never inflated whole first; a zip is checked by the sizes its directory declares (the readers
stop at those). Reading one source file may take ``source_seconds`` at most.

Each limit comes from the scene manifest's ``[defaults]`` (or the source's own table), else from the
environment (``TWIN_SOURCE_SECONDS``, ``TWIN_MAX_INFLATE_RATIO``, ``TWIN_MAX_INFLATED_BYTES``), else
:data:`DEFAULTS`. docs/security.md says why these values.
"""

from __future__ import annotations

import bz2
import gzip
import io
import math
import os
import time
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from twin.errors import BuildError, ManifestError, SourceError

#: The limits when neither the manifest nor the environment gives one: generous for real data (OSM XML and
#: CityGML compress 5-25 times), an hour per file, 16 GiB inflated at most.
DEFAULTS: dict[str, float] = {"source_seconds": 3600.0, "max_inflate_ratio": 100.0, "max_inflated_bytes": 16 * 2**30}
#: The manifest keys, in ``[defaults]`` or a ``[[sources]]`` table.
KEYS = tuple(DEFAULTS)
#: The environment variable of each limit.
ENV = {key: f"TWIN_{key.upper()}" for key in KEYS}
#: A compressed file may always inflate this far, whatever its ratio (an all-ocean SRTM1 tile, 25.9 MB, zips
#: to 25 kB).
MIN_INFLATED_BYTES = 32 * 2**20
_CHUNK = 1 << 20


class SourceTooLarge(SourceError):
    """A compressed source inflates beyond its limits (a decompression bomb, or a file too big for a build)."""


class SourceTimeout(BuildError):
    """Reading one source file took longer than its time limit."""


@dataclass(frozen=True)
class SourceLimits:
    """The limits of reading one source file (see the module docstring)."""

    source_seconds: float = DEFAULTS["source_seconds"]
    max_inflate_ratio: float = DEFAULTS["max_inflate_ratio"]
    max_inflated_bytes: int = int(DEFAULTS["max_inflated_bytes"])

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None = None, where: str = "[defaults]") -> SourceLimits:
        """The limits a manifest table ``raw`` gives, the environment's for the others, else the defaults.

        Raises :class:`ManifestError` naming the key (or variable) whose value is not a positive number.
        """
        values = {}
        for key, default in DEFAULTS.items():
            if raw is not None and key in raw:
                value, origin = raw[key], f"{where}: {key}"
            elif ENV[key] in os.environ:
                value, origin = os.environ[ENV[key]], ENV[key]
            else:
                value, origin = default, key
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ManifestError(f"{origin}: expected a number, got {value!r}") from None
            if not (math.isfinite(number) and number > 0):
                raise ManifestError(f"{origin}: must be a positive number, got {value!r}")
            values[key] = number
        return cls(values["source_seconds"], values["max_inflate_ratio"], int(values["max_inflated_bytes"]))

    def inflated_limit(self, compressed: int) -> int:
        """How many bytes a file of ``compressed`` bytes may inflate to."""
        return int(min(self.max_inflated_bytes, max(self.max_inflate_ratio * compressed, MIN_INFLATED_BYTES)))

    def too_large(self, name: str, compressed: int, inflated: int | None = None) -> SourceTooLarge:
        """The error for ``name`` (``compressed`` bytes) inflating beyond its limit."""
        limit = self.inflated_limit(compressed)
        said = f"more than {limit:,} bytes" if inflated is None else f"{inflated:,} bytes"
        return SourceTooLarge(
            f"{name}: inflates to {said} from {compressed:,} (limits: {self.max_inflate_ratio:g} times its size, "
            f"{self.max_inflated_bytes:,} bytes; max_inflate_ratio / max_inflated_bytes in [defaults] or "
            f"{ENV['max_inflate_ratio']} / {ENV['max_inflated_bytes']}); refusing a possible decompression bomb"
        )

    def timeout(self, name: str) -> SourceTimeout:
        """The error for reading ``name`` past its time limit."""
        return SourceTimeout(
            f"{name}: reading took longer than {self.source_seconds:g} s, the limit per source file "
            f"(source_seconds in [defaults] or {ENV['source_seconds']})"
        )


def compression(path: Path) -> str | None:
    """``"gzip"`` or ``"bz2"`` by the file's first bytes (whatever its name says), else None."""
    with open(path, "rb") as f:
        head = f.read(3)
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head == b"BZh":
        return "bz2"
    return None


class _Inflating(io.RawIOBase):
    """A decompressing stream that counts what it inflates and stops at the limit (and the deadline)."""

    def __init__(self, path: Path, kind: str, limits: SourceLimits, deadline: float | None) -> None:
        self.name, self.limits, self.deadline = path.name, limits, deadline
        self.compressed = path.stat().st_size
        self.limit = limits.inflated_limit(self.compressed)
        self.inflated = 0
        self.stream: gzip.GzipFile | bz2.BZ2File = gzip.GzipFile(path, "rb") if kind == "gzip" else bz2.BZ2File(path)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            n = self.stream.readinto(buffer)
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError; a cut stream an EOFError
            raise SourceError(f"{self.name}: cannot decompress: {exc or type(exc).__name__}") from exc
        self.inflated += n
        if self.inflated > self.limit:
            raise self.limits.too_large(self.name, self.compressed)
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise self.limits.timeout(self.name)
        return int(n)

    def close(self) -> None:
        self.stream.close()
        super().close()


@contextmanager
def open_source(path: Path, limits: SourceLimits, deadline: float | None = None) -> Iterator[BinaryIO]:
    """The file's bytes, inflated as they stream when it is gzip or bzip2 (within ``limits``)."""
    kind = compression(path)
    if kind is None:
        with open(path, "rb") as f:
            yield f
        return
    with io.BufferedReader(_Inflating(path, kind, limits, deadline), _CHUNK) as stream:
        yield stream


def check_inflation(path: Path, limits: SourceLimits, deadline: float | None = None) -> int | None:
    """Stream through a gzip or bzip2 file to check its limits before a native reader inflates it by itself.

    Returns the inflated size (None for an uncompressed file); raises :class:`SourceTooLarge` at the limit,
    never holding more than a chunk.
    """
    if compression(path) is None:
        return None
    with open_source(path, limits, deadline) as stream:
        total = 0
        while chunk := stream.read(_CHUNK):
            total += len(chunk)
    return total


def check_zip(path: Path, limits: SourceLimits) -> None:
    """Refuse a zip whose members declare more than ``limits`` allow (zip readers stop at the declared sizes)."""
    try:
        with zipfile.ZipFile(path) as z:
            declared = sum(info.file_size for info in z.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"{path.name}: not a zip file: {exc}") from exc
    compressed = path.stat().st_size
    if declared > limits.inflated_limit(compressed):
        raise limits.too_large(path.name, compressed, declared)
