"""Parametric roofs as piecewise-planar "tents" over a footprint.

A roof is described by a few planes ``g_i(p) = w_i · (p - centre) + c_i`` in the footprint's plane; the roof
surface is ``z(p) = top - height * max_i g_i(p)``, with ``g = 0`` on the ridge (or apex, or high side) and
``g = 1`` at the eaves. Within the footprint's oriented bounding box every shape below keeps ``g`` in
[0, 1], so the surface is continuous and the walls simply rise to ``z(p)`` at the outline:

- ``skillion``: one plane, high on the side opposite ``direction`` (the way the slope faces)
- ``gabled``: two planes meeting at a ridge along the long axis (or across, or perpendicular to direction)
- ``hipped``: gabled plus two hip planes at the ridge ends
- ``pyramidal``: four planes meeting at the apex

For non-rectangular footprints the planes follow the oriented bounding box, which gives a plausible roof on
L- and T-shapes without a straight skeleton (a known simplification, see docs/architecture.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from ..records import Roof


@dataclass(frozen=True, slots=True)
class RoofPlanes:
    """The planes of a roof. weights : (k, 2); offsets : (k,); centre : (2,) float64."""

    weights: np.ndarray
    offsets: np.ndarray
    centre: np.ndarray

    def g(self, points: np.ndarray) -> np.ndarray:
        """Per-plane values (n, k) at points (n, 2)."""
        return (points - self.centre) @ self.weights.T + self.offsets

    def level(self, points: np.ndarray) -> np.ndarray:
        """max_i g_i at points (n, 2) → (n,), 0 at the ridge and 1 at the eaves."""
        return self.g(points).max(axis=1)


def _axes(footprint: Polygon | MultiPolygon, roof: Roof) -> tuple[np.ndarray, np.ndarray]:
    """Unit ridge axis ``u`` and its perpendicular ``v`` for a footprint and roof."""
    if roof.direction is not None and roof.shape != "pyramidal":
        theta = math.radians(roof.direction)
        facing = np.array([math.sin(theta), math.cos(theta)])  # the way the slope faces
        return np.array([facing[1], -facing[0]]), facing
    rect = np.asarray(shapely.minimum_rotated_rectangle(footprint).exterior.coords)[:4]
    e1, e2 = rect[1] - rect[0], rect[2] - rect[1]
    long_, short = (e1, e2) if np.linalg.norm(e1) >= np.linalg.norm(e2) else (e2, e1)
    along = long_ if roof.orientation != "across" else short
    u = along / (np.linalg.norm(along) or 1.0)
    v = np.array([-u[1], u[0]])
    if roof.shape == "skillion":
        # Without a direction the slope runs across the short side, facing "down" along v.
        return u, v
    return u, v


def roof_planes(footprint: Polygon | MultiPolygon, roof: Roof) -> RoofPlanes | None:
    """The planes for a roof over ``footprint`` (working CRS), or None for a flat roof."""
    if roof.shape == "flat" or roof.height <= 0:
        return None
    u, v = _axes(footprint, roof)
    pts = shapely.get_coordinates(footprint)
    pu, pv = pts @ u, pts @ v
    cu, cv = (pu.min() + pu.max()) / 2.0, (pv.min() + pv.max()) / 2.0
    a, b = max((pu.max() - pu.min()) / 2.0, 1e-6), max((pv.max() - pv.min()) / 2.0, 1e-6)
    centre = cu * u + cv * v
    if roof.shape == "skillion":
        # Highest at -v (g = 0), eaves at +v (g = 1): the slope faces +v.
        return RoofPlanes(np.array([v / (2 * b)]), np.array([0.5]), centre)
    if roof.shape == "gabled":
        return RoofPlanes(np.array([v / b, -v / b]), np.zeros(2), centre)
    if roof.shape == "hipped":
        run = min(a, b)  # the hips rise as steeply as the main slopes
        hip = 1.0 - a / run
        return RoofPlanes(np.array([v / b, -v / b, u / run, -u / run]), np.array([0, 0, hip, hip]), centre)
    if roof.shape == "pyramidal":
        return RoofPlanes(np.array([v / b, -v / b, u / a, -u / a]), np.zeros(4), centre)
    return None


def clip_halfplane(poly: np.ndarray, w: np.ndarray, c: float) -> np.ndarray:
    """Sutherland–Hodgman: the part of convex polygon (k, 2) where ``p @ w + c >= 0``."""
    if len(poly) == 0:
        return poly
    s = poly @ w + c
    out = []
    for i in range(len(poly)):
        j = (i + 1) % len(poly)
        if s[i] >= 0:
            out.append(poly[i])
        if (s[i] > 0 > s[j]) or (s[i] < 0 < s[j]):
            t = s[i] / (s[i] - s[j])
            out.append(poly[i] + t * (poly[j] - poly[i]))
    return np.array(out) if out else np.zeros((0, 2))


def densify_ring(ring: np.ndarray, planes: RoofPlanes) -> np.ndarray:
    """Insert the points where the ring crosses a crease between two roof planes.

    ring : (k, 2) float64 not closed; returns (k', 2) with the crossing points in order.
    """
    p = ring
    q = np.roll(ring, -1, axis=0)
    gp, gq = planes.g(p), planes.g(q)
    k = gp.shape[1]
    ts: list[np.ndarray] = []
    for i in range(k):
        for j in range(i + 1, k):
            dp, dq = gp[:, i] - gp[:, j], gq[:, i] - gq[:, j]
            with np.errstate(divide="ignore", invalid="ignore"):
                t = dp / (dp - dq)
            ok = (dp * dq < 0) & np.isfinite(t)
            t = np.where(ok, t, np.nan)
            # Keep a crossing only where planes i and j are the highest there (a real crease).
            x = p + t[:, None] * (q - p)
            gx = planes.g(np.nan_to_num(x))
            top = gx.max(axis=1)
            real = ok & (np.abs(gx[:, i] - top) < 1e-9) & (t > 1e-9) & (t < 1 - 1e-9)
            ts.append(np.where(real, t, np.nan))
    if not ts:
        return ring
    tt = np.column_stack(ts)
    out = []
    for e in range(len(p)):
        out.append(p[e])
        extra = np.unique(tt[e][np.isfinite(tt[e])])
        out.extend(p[e] + t * (q[e] - p[e]) for t in extra)
    return np.array(out)
