"""Check a design file before it is accepted (the server's upload check): format, references, sizes, parse.

:func:`check_design` is the one entry point: it sniffs the format by content, refuses glTF/GLB files that are
truncated, name external files or declare more data than allowed (summed *before* anything is decoded, so a
small file that would inflate to gigabytes is refused cheaply), then reads the design with
:func:`twin.designs.load.load_design` and returns what a store keeps about it (:class:`DesignInfo`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twin.errors import DesignError, DesignTooLarge, TwinError

from .base import check_gltf_references, gltf_json
from .ifczip import MAX_UNZIPPED, check_size, ifc_member
from .load import load_design, sniff
from .metrics import footprint_centre, footprint_rings


@dataclass(frozen=True)
class DesignInfo:
    """What a checked design file is: its format, triangles, bounds (2, 3) in local metres, storeys, georef,
    and its footprint seen from above (local metres, Z up): the outer rings, simplified to 5 cm, and the
    centre an anchor with ``point = "centre"`` puts at its position."""

    format: str
    triangles: int
    bounds: tuple[tuple[float, ...], tuple[float, ...]]
    storeys: int
    georeferenced: bool
    footprint: list[list[tuple[float, float]]] = field(default_factory=list)
    footprint_centre: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON an upload row keeps (format apart): ``triangles``, ``bounds``, ``storeys``, ``georeferenced``,
        ``footprint`` (rings of [x, y]) and ``footprint_centre`` ([x, y])."""
        return {
            "triangles": self.triangles,
            "bounds": [list(row) for row in self.bounds],
            "storeys": self.storeys,
            "georeferenced": self.georeferenced,
            "footprint": [[list(p) for p in ring] for ring in self.footprint],
            "footprint_centre": None if self.footprint_centre is None else list(self.footprint_centre),
        }


def check_design(
    path: str | Path, *, name: str | None = None, self_contained: bool = False, max_declared: int | None = None
) -> DesignInfo:
    """Check a design file by parsing it; raises a :class:`TwinError` subclass naming the problem.

    name : the design's display name (its title)
    self_contained : refuse glTF/GLB references to any file (an upload is one file), not only those
        leaving the design's folder
    max_declared : refuse a glTF/GLB declaring more bytes than this (:class:`DesignTooLarge`)
    Any unexpected error of a format reader on hostile input becomes a :class:`DesignError`: a file that
    cannot be parsed is the uploader's problem, never a crash of the caller.
    """
    path = Path(path)
    fmt = sniff(path)
    if fmt in ("glb", "gltf"):
        check_gltf(path, fmt, self_contained=self_contained, max_declared=max_declared)
    if fmt == "ifczip":
        check_size(path, ifc_member(path), max_declared if max_declared is not None else MAX_UNZIPPED)
    try:
        design = load_design(path, name=name)
    except TwinError:
        raise
    except Exception as exc:
        raise DesignError(f"{path.name}: cannot read the {fmt} file: {type(exc).__name__}: {exc}") from exc
    lo, hi = design.bounds
    return DesignInfo(
        format=fmt,
        triangles=design.triangle_count,
        bounds=(tuple(map(float, lo)), tuple(map(float, hi))),
        storeys=len(design.storeys),
        georeferenced=design.georef is not None,
        footprint=footprint_rings(design),
        footprint_centre=tuple(round(v, 4) for v in footprint_centre(design)),  # type: ignore[arg-type]
    )


def check_gltf(path: Path, fmt: str, *, self_contained: bool = False, max_declared: int | None = None) -> None:
    """Refuse a glTF/GLB that is truncated, names files it may not, or declares more data than allowed.

    Declared sizes are buffers, buffer views, meshopt-compressed views and accessor counts (16 bytes each).
    """
    doc = gltf_json(path, fmt)  # truncated or malformed files fail here, naming the file
    check_gltf_references(doc, path, self_contained=self_contained)
    name = path.name
    if max_declared is None:
        return
    declared = sum(_int(b.get("byteLength")) for b in _items(doc, "buffers"))
    for view in _items(doc, "bufferViews"):
        declared += _int(view.get("byteLength"))
        for ext in ("EXT_meshopt_compression", "KHR_meshopt_compression"):
            meta = (view.get("extensions") or {}).get(ext) if isinstance(view.get("extensions"), dict) else None
            if isinstance(meta, dict):
                declared += _int(meta.get("count")) * _int(meta.get("byteStride"))
    declared += sum(_int(a.get("count")) * 16 for a in _items(doc, "accessors"))
    if declared > max_declared:
        raise DesignTooLarge(
            f"{name}: declares {declared:,} bytes of data, more than the limit of {max_declared:,} "
            "(a compression bomb or a design too large for a scene)"
        )


def _items(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = doc.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _int(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0
