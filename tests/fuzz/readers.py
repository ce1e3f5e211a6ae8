"""The reader calls the fuzz tests make: each reads a whole file the way a build does, or raises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twin.read.registry import reader_for
from twin.records import ReaderOptions
from twin.report import Report


def read_all(fmt: str, **options: Any) -> Any:
    """A call reading every building of a file with the registry's reader for ``fmt`` (a build's path)."""

    def call(path: Path) -> int:
        reader = reader_for(fmt)
        buildings = list(reader(path, options=ReaderOptions(**options), report=Report(), source="fuzz"))
        return len(buildings)

    return call
