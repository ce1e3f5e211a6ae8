"""Landuse, green, water and paved areas as ground surfaces coloured by kind, draped (no I/O).

Areas lie below the roads (:data:`twin.context.streets.LIFT_BASE`): the larger, general areas (farmland,
forest, park) lowest and the small specific ones (pitches, parking, water, squares) above them, a
centimetre-scale step apart, so a pitch inside a park or a pond in a meadow is seen and does not z-fight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from twin.context.drape import Surface, drape_polygons
from twin.context.records import AreaFeature
from twin.context.streets import LIFT_BASE
from twin.context.terrain import HeightGrid

#: Area kinds bottom to top.
AREA_ORDER = ("farmland", "forest", "park", "grass", "scrub", "pitch", "parking", "pedestrian", "water")
#: sRGB colours by area kind.
AREA_COLORS: dict[str, tuple[int, int, int]] = {
    "farmland": (214, 206, 150),
    "forest": (92, 132, 80),
    "park": (140, 182, 110),
    "grass": (150, 192, 118),
    "scrub": (120, 160, 96),
    "pitch": (120, 176, 120),
    "parking": (150, 150, 154),
    "pedestrian": (204, 196, 184),
    "water": (110, 160, 200),
}
#: The band of heights areas use above the ground, below the lowest road class (m).
AREA_LIFT = LIFT_BASE / 2.0


def area_lift(kind: str) -> float:
    """Metres above the ground of an area kind's surfaces (unknown kinds lowest)."""
    order = AREA_ORDER.index(kind) if kind in AREA_ORDER else 0
    return 0.01 + AREA_LIFT * order / len(AREA_ORDER)


@dataclass(frozen=True)
class AreaPieces:
    """The areas drawn, lowest first, with their valid polygons."""

    areas: list[AreaFeature]
    polygons: list[object]


def area_pieces(areas: Sequence[AreaFeature]) -> AreaPieces:
    """The areas in drawing order (kinds in :data:`AREA_COLORS` only), repaired where invalid."""
    import shapely

    kept = sorted((a for a in areas if a.kind in AREA_COLORS), key=lambda a: AREA_ORDER.index(a.kind))
    polygons = [shapely.make_valid(a.geometry) if not a.geometry.is_valid else a.geometry for a in kept]
    return AreaPieces(kept, polygons)


def mesh_areas(pieces: AreaPieces, grid: HeightGrid | None = None) -> Surface:
    """The areas as one draped surface (owner: index into ``pieces.areas``)."""
    return drape_polygons(pieces.polygons, [area_lift(a.kind) for a in pieces.areas], grid)


def area_colors(pieces: AreaPieces, owner: np.ndarray) -> np.ndarray:
    """(n, 3) uint8 sRGB vertex colours by each vertex's area kind."""
    palette = np.array([AREA_COLORS[a.kind] for a in pieces.areas], dtype=np.uint8).reshape(-1, 3)
    return palette[owner]
