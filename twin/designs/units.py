"""Length units and up axes of design files: the only two things that differ between their local frames."""

from __future__ import annotations

import numpy as np

#: Metres per unit, by the names a planner may declare.
UNITS = {
    "mm": 0.001,
    "millimetre": 0.001,
    "millimeter": 0.001,
    "cm": 0.01,
    "centimetre": 0.01,
    "centimeter": 0.01,
    "dm": 0.1,
    "m": 1.0,
    "metre": 1.0,
    "meter": 1.0,
    "km": 1000.0,
    "ft": 0.3048,
    "foot": 0.3048,
    "feet": 0.3048,
    "us-ft": 1200.0 / 3937.0,
    "in": 0.0254,
    "inch": 0.0254,
}


def unit_scale(name: str) -> float:
    """Metres per ``name`` unit; raises ``ValueError`` listing the known names."""
    key = name.strip().lower()
    if key not in UNITS:
        raise ValueError(f"unknown length unit {name!r} (known: mm, cm, m, ft, in, ...)")
    return UNITS[key]


#: (4, 4) rotation taking a Y-up frame to Z-up: (x, y, z) → (x, -z, y). A glTF asset's front (+Z) faces
#: -Y (south when unrotated) and its up (+Y) becomes +Z.
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, -1.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])


def to_z_up(up_axis: str, scale: float) -> np.ndarray:
    """(4, 4) matrix from a file's frame (``up_axis`` ``"Y"`` or ``"Z"``, ``scale`` metres per unit) to
    local Z-up metres."""
    axis = up_axis.strip().upper()
    if axis not in ("Y", "Z"):
        raise ValueError(f"up axis must be 'Y' or 'Z', got {up_axis!r}")
    m = Y_UP_TO_Z_UP.copy() if axis == "Y" else np.eye(4)
    m[:3, :3] *= scale
    return m
