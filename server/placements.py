"""A placed design as the database keeps it (anchor and the planner's keep/remove choices) and as the API and
the builder see it.

The ``designs.anchor`` column holds one JSON document: the anchor's keys (:class:`twin.designs.model.Anchor`)
plus ``buildings: {keep: [...], remove: [...]}``, the existing buildings the planner keeps although the design's
site would remove them, and those it removes although they overlap too little. This module is the only place
that knows that layout: :func:`stored` writes it, :func:`design_out` shows it, :func:`design_spec` turns it into
the builder's :class:`twin.designs.model.DesignSpec`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

#: The key of the planner's building choices inside the stored anchor document.
CHOICES = "buildings"


def stored(anchor: Mapping[str, Any], keep: Iterable[str] = (), remove: Iterable[str] = ()) -> dict[str, Any]:
    """The JSON document the ``anchor`` column keeps for a placement (ids deduplicated, order kept)."""
    keep_ids = list(dict.fromkeys(keep))
    gone = set(keep_ids)
    remove_ids = [i for i in dict.fromkeys(remove) if i not in gone]  # keeping wins over removing
    return {**{k: v for k, v in anchor.items() if k != CHOICES}, CHOICES: {"keep": keep_ids, "remove": remove_ids}}


def split(doc: Mapping[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    """(anchor, keep, remove) of a stored document (older rows have no choices)."""
    raw = doc.get(CHOICES)
    choices: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    anchor = {k: v for k, v in doc.items() if k != CHOICES}
    return anchor, [str(i) for i in choices.get("keep", [])], [str(i) for i in choices.get("remove", [])]


def design_out(row: Mapping[str, Any]) -> dict[str, Any]:
    """A design row as the API shows it: ``anchor`` without the choices, ``keep`` and ``remove`` beside it."""
    anchor, keep, remove = split(row["anchor"])
    return {**row, "anchor": anchor, "keep": keep, "remove": remove}


def variant_out(row: Mapping[str, Any]) -> dict[str, Any]:
    """A variant row with its designs as :func:`design_out` shows them."""
    return {**row, "designs": [design_out(d) for d in row.get("designs", [])]}


def design_spec(file: Path, row: Mapping[str, Any], filename: str | None = None) -> Any:
    """The builder's :class:`twin.designs.model.DesignSpec` of a stored placement of the upload ``file``."""
    from twin.designs.model import Anchor, DesignSpec

    anchor, keep, remove = split(row["anchor"])
    return DesignSpec(
        file=file,
        id=row["id"],
        title=row["title"],
        anchor=Anchor.from_dict(anchor),
        filename=filename,
        keep=tuple(keep),
        remove=tuple(remove),
    )
