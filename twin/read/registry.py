"""The registry of source kinds: each reader's name, file suffixes, content sniff and read function, in one table.

A new source kind is one :class:`SourceKind` row in :data:`KINDS`. Reader modules are imported on first use
(osmium, lxml and friends load only when a scene has such a source). :func:`sniff_format` tries the rows in
order: the first whose suffix matches the file name (and whose ``claims`` accepts the file's first bytes,
where several kinds share a suffix) wins.
"""

from __future__ import annotations

import importlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from twin.errors import ManifestError, UnsupportedFormat
from twin.read.limits import SourceLimits, check_inflation
from twin.records import Building, ReaderOptions
from twin.report import Report

#: ``read_xxx(path, *, options, report, source) -> Iterator[Building]`` (see :mod:`twin.read`).
Reader = Callable[..., Iterator[Building]]
#: How much of a file ``claims`` sees (decoded as UTF-8, bad bytes replaced).
HEAD_BYTES = 200_000


@dataclass(frozen=True)
class SourceKind:
    """One kind of source: its manifest name, the reader (``"module:function"`` in twin.read) and how to spot it.

    suffixes : lower-case file name endings that may be this kind
    claims : for suffixes several kinds share, whether the file's head text is this kind (None: any file)
    """

    name: str
    reader: str
    suffixes: tuple[str, ...]
    claims: Callable[[str], bool] | None = None

    def load(self) -> Reader:
        """The read function (its module is imported now)."""
        module, function = self.reader.split(":")
        reader: Reader = getattr(importlib.import_module(f"twin.read.{module}"), function)
        return reader


def _osm_export(head: str) -> bool:
    # OSM exports carry ids like "way/123" and raw OSM tags.
    return bool(re.search(r'"(@?id)"\s*:\s*"(way|relation)/\d+"', head)) or '"building:levels"' in head


#: Every source kind, in sniffing order.
KINDS: dict[str, SourceKind] = {
    kind.name: kind
    for kind in (
        SourceKind("osm", "osm:read_osm", (".osm", ".osm.gz", ".osm.bz2", ".osm.pbf", ".pbf", ".osc")),
        SourceKind("osm-geojson", "osm_geojson:read_osm_geojson", (".geojson", ".json"), _osm_export),
        SourceKind("citygml", "citygml:read_citygml", (".gml", ".citygml", ".xml", ".gml.gz")),
        SourceKind("footprints", "footprints:read_footprints", (".gpkg", ".geojson", ".json")),
    )
}
#: The source format names a manifest may give.
FORMATS = tuple(KINDS)


class Source(Protocol):
    """What :func:`read_source` needs of a source (:class:`twin.scene.SourceSpec` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def path(self) -> Path: ...
    @property
    def format(self) -> str: ...
    @property
    def options(self) -> ReaderOptions: ...


def sniff_format(path: Path) -> str:
    """The source format of a file, from its name and (where a suffix is shared) its first bytes."""
    name = path.name.lower()
    head: str | None = None
    for kind in KINDS.values():
        if not name.endswith(kind.suffixes):
            continue
        if kind.claims is None:
            return kind.name
        if head is None:
            try:
                with path.open("rb") as f:
                    head = f.read(HEAD_BYTES).decode("utf-8", "replace")
            except OSError as exc:
                raise ManifestError(f"cannot read {path}: {exc}") from exc
        if kind.claims(head):
            return kind.name
    raise UnsupportedFormat(f"{path}: unknown source format (expected .osm, .pbf, .geojson, .gpkg or .gml)")


def reader_for(fmt: str) -> Reader:
    """The read function of a format name (raises :class:`UnsupportedFormat` for an unknown one)."""
    kind = KINDS.get(fmt)
    if kind is None:
        raise UnsupportedFormat(f"unknown source format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return kind.load()


#: Formats whose reader inflates compressed files natively (osmium): their limits are checked by a first
#: streaming pass; the other readers stream through :func:`twin.read.limits.open_source` themselves.
_INFLATES_ITSELF = ("osm",)


def read_source(source: Source, report: Report) -> Iterator[Building]:
    """Stream a source's buildings (source CRS), within the source limits (:mod:`twin.read.limits`).

    Raises :class:`twin.read.limits.SourceTooLarge` for a compressed file that inflates beyond its limits and
    :class:`twin.read.limits.SourceTimeout` (a BuildError) once the reader has spent more than
    ``source_seconds`` on the file, checked between records (a reader that yields only at the end, as
    osmium's area assembly does, is stopped at its first record).
    """
    limits = SourceLimits.of(getattr(source.options, "limits", None), f"source {source.name!r}")
    reader = reader_for(source.format)
    path = Path(source.path)
    started = time.monotonic()
    if source.format in _INFLATES_ITSELF and path.is_file():
        check_inflation(path, limits, started + limits.source_seconds)
    spent = time.monotonic() - started
    records = reader(path, options=source.options, report=report, source=source.name)
    while True:
        resumed = time.monotonic()
        try:
            record = next(records)
        except StopIteration:
            return
        spent += time.monotonic() - resumed  # the reader's time, not what the caller does with each record
        if spent > limits.source_seconds:
            close = getattr(records, "close", None)
            if close is not None:
                close()
            raise limits.timeout(path.name)
        yield record
