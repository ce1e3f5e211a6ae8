"""Input partitions: the part of a scene's sources one task reads (a file, GeoPackage row ranges, OSM extracts).

The partitions of a scene, in order, read exactly the buildings a single-machine build reads, in the same
order: a source is one partition (a file of a folder of CityGML tiles, a GeoJSON file), a GeoPackage layer
of more than ``partition_rows`` rows is cut into row-id ranges read through its primary key, and an OSM file
of more than ``osm_bytes`` into bbox extracts (:mod:`twin.distributed.osm_extracts`; their buildings are put
back into the file's order by the client). The spatial grouping the tiles need comes after reading
(:mod:`twin.distributed.tasks` buckets each building into its quadtree node), so a partition may hold
buildings of any area.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import SourceError
from ..read.footprints import GpkgRows, read_footprints
from ..read.registry import read_source
from ..records import Building
from ..report import Report
from ..scene import Scene, SourceSpec
from .grid import Bounds
from .osm_extracts import owned

#: The fewest rows a GeoPackage range is cut to when more ranges would keep more workers busy.
MIN_ROWS = 10_000


@dataclass(frozen=True)
class Partition:
    """One task's share of the input: ``source``, only the GeoPackage ``rows`` of it, or an OSM ``extract``.

    extract, cell : an extract of an OSM source and the lon/lat cell whose buildings it keeps
    """

    index: int
    source: SourceSpec
    rows: GpkgRows | None = None
    extract: Path | None = None
    cell: Bounds | None = None

    def describe(self) -> str:
        """The file (and rows) this partition reads, for messages."""
        if self.extract is not None:
            return f"{self.source.path} (extract {self.extract.name}, cell {self.cell})"
        if self.rows is None:
            return str(self.source.path)
        return f"{self.source.path} (layer {self.rows[0]}, row ids {self.rows[2][0]}..{self.rows[2][-1]})"

    def read(self, report: Report) -> Iterator[Building]:
        """Stream the partition's buildings (source CRS), as the source's reader yields them."""
        if self.extract is not None and self.cell is not None:
            cell = self.cell
            yield from (b for b in read_source(replace(self.source, path=self.extract), report) if owned(b, cell))
        elif self.rows is None:
            yield from read_source(self.source, report)
        else:
            yield from read_footprints(
                self.source.path, options=self.source.options, report=report, source=self.source.name, rows=self.rows
            )

    def fingerprint(self, salt: str) -> str:
        """A hash of what the partition reads (the file's size and time, the reader options, the rows)."""
        st = self.source.path.stat()
        s = self.source
        text = (
            f"{salt}|{s.name}|{s.path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{s.format}|{s.options}|{self.rows}"
            f"|{self.cell}"
        )
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def _gpkg_ranges(source: SourceSpec, rows_per_part: int, wanted: int) -> list[GpkgRows] | None:
    """Row-id ranges of every feature table of a GeoPackage; None when it is small enough to read whole.

    Ranges hold at most ``rows_per_part`` rows, fewer where that gives ``wanted`` ranges (not below
    :data:`MIN_ROWS`), so every worker has work.
    """
    try:
        db = sqlite3.connect(f"file:{source.path}?mode=ro", uri=True)
    except sqlite3.Error as err:
        raise SourceError(f"cannot read GeoPackage {source.path}: {err}") from err
    try:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT g.table_name FROM gpkg_geometry_columns g "
                "JOIN gpkg_contents c ON c.table_name = g.table_name WHERE c.data_type = 'features'"
            )
        ]
        counts = {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        rows_per_part = min(rows_per_part, max(math.ceil(sum(counts.values()) / wanted), MIN_ROWS))
        if sum(counts.values()) <= rows_per_part:
            return None
        ranges: list[GpkgRows] = []
        for table in tables:
            starts = [
                db.execute(f'SELECT rowid FROM "{table}" ORDER BY rowid LIMIT 1 OFFSET ?', (k,)).fetchone()[0]
                for k in range(0, counts[table], rows_per_part)
            ]
            for i, start in enumerate(starts):
                if i + 1 < len(starts):
                    ranges.append((table, "rowid >= ? AND rowid < ?", (start, starts[i + 1])))
                else:
                    ranges.append((table, "rowid >= ?", (start,)))
        return ranges
    except sqlite3.Error as err:
        raise SourceError(f"cannot read GeoPackage {source.path}: {err}") from err
    finally:
        db.close()


def plan_partitions(scene: Scene, rows_per_part: int, wanted: int = 1) -> list[Partition]:
    """The scene's partitions, in the order a single-machine build reads them (see :func:`_gpkg_ranges`)."""
    out: list[Partition] = []
    for source in scene.sources:
        ranges = None
        if source.format == "footprints" and source.path.suffix.lower() == ".gpkg":
            ranges = _gpkg_ranges(source, rows_per_part, wanted)
        if ranges is None:
            out.append(Partition(len(out), source))
        else:
            out.extend(Partition(len(out) + i, source, rows) for i, rows in enumerate(ranges))
    return out


def with_extracts(parts: Sequence[Partition], cuts: dict[int, list[tuple[Path, Bounds]]]) -> list[Partition]:
    """``parts`` with partition ``i`` replaced by one partition per (extract, cell) of ``cuts[i]``, renumbered."""
    out: list[Partition] = []
    for part in parts:
        pieces = cuts.get(part.index)
        if not pieces:
            out.append(replace(part, index=len(out)))
        for extract, cell in pieces or []:
            out.append(replace(part, index=len(out), extract=extract, cell=cell))
    return out
