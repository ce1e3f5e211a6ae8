"""JSON source files (GeoJSON footprints, OSM exports) parsed whole, with every way of failing named.

Python's :mod:`json` recurses once per nesting level, so a file of ``[[[[...`` a few thousand levels deep
raises RecursionError instead of a decode error, and an integer of more than 4,300 digits a plain ValueError;
here both are ways for a file to be unreadable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from twin.errors import SourceError


def load_json(path: Path, kind: str = "GeoJSON file") -> Any:
    """The decoded document of ``path``; :class:`SourceError` naming the file when it cannot be read."""
    try:
        with path.open("rb") as f:
            return json.load(f)
    except RecursionError:
        raise SourceError(f"cannot read {kind} {path}: nested too deeply for a {kind}") from None
    except (OSError, ValueError) as err:  # ValueError: JSONDecodeError, UnicodeDecodeError, an integer of 5,000 digits
        raise SourceError(f"cannot read {kind} {path}: {err}") from err
