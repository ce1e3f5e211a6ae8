"""3D Tiles 1.1 tileset.json as small dataclasses with ``to_dict`` (spec objects, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

import numpy as np

from .. import __version__


class BoxVolumeDict(TypedDict):
    """``boundingVolume`` with an oriented box: centre (3) then three half-axes (3 each)."""

    box: list[float]


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in a tile's frame. lo, hi : (3,) float64."""

    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def around(cls, points_lo: np.ndarray, points_hi: np.ndarray) -> Box:
        """The box spanning the given corner arrays (3,)."""
        return cls(np.asarray(points_lo, dtype=np.float64), np.asarray(points_hi, dtype=np.float64))

    def union(self, other: Box) -> Box:
        """The smallest box containing both."""
        return Box(np.minimum(self.lo, other.lo), np.maximum(self.hi, other.hi))

    def to_dict(self) -> BoxVolumeDict:
        """The 3D Tiles ``box`` bounding volume (half-axes at least 1 mm, so the box is never flat)."""
        c = (self.lo + self.hi) / 2.0
        h = np.maximum((self.hi - self.lo) / 2.0, 0.001)
        values = [c[0], c[1], c[2], h[0], 0.0, 0.0, 0.0, h[1], 0.0, 0.0, 0.0, h[2]]
        return {"box": [round(float(v), 4) for v in values]}


@dataclass
class Tile:
    """One tile: bounding box, geometric error, optional content URI and transform, children."""

    box: Box
    geometric_error: float
    content_uri: str | None = None
    refine: Literal["ADD", "REPLACE"] | None = None
    transform: np.ndarray | None = None
    children: list[Tile] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The tile as 3D Tiles JSON."""
        out: dict[str, Any] = {"boundingVolume": self.box.to_dict(), "geometricError": round(self.geometric_error, 3)}
        if self.refine:
            out["refine"] = self.refine
        if self.transform is not None:
            # 3D Tiles stores 4x4 matrices column-major.
            out["transform"] = [float(v) for v in np.asarray(self.transform, dtype=np.float64).T.ravel()]
        if self.content_uri:
            out["content"] = {"uri": self.content_uri}
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out


@dataclass
class Tileset:
    """A whole tileset: the root tile, the tileset's geometric error and a version string."""

    root: Tile
    geometric_error: float
    tileset_version: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """tileset.json content."""
        asset: dict[str, Any] = {"version": "1.1", "generator": f"urban-twin {__version__}"}
        if self.tileset_version:
            asset["tilesetVersion"] = self.tileset_version
        out: dict[str, Any] = {
            "asset": asset,
            "geometricError": round(self.geometric_error, 3),
            "root": self.root.to_dict(),
        }
        if self.extras:
            out["extras"] = self.extras
        return out
