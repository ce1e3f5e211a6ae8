"""A preview picture of a design: pyvista, off-screen, returned as PNG bytes.

Headless: VTK (9.4+) picks its OpenGL window at run time; without a display it would try X first and warn.
We ask for EGL directly, which Mesa provides in software (Debian packages ``libegl1``, ``libegl-mesa0``,
``libgl1-mesa-dri``; no X server, no Xvfb needed).
"""

from __future__ import annotations

import io
import os
from typing import Any

import numpy as np
import trimesh

from twin.errors import DesignError

from .model import Design


def _colour(mesh: trimesh.Trimesh) -> tuple[np.ndarray, float]:
    """(3,) RGB in 0..1 and opacity of a mesh, from its material or its colours."""
    visual = mesh.visual
    material = getattr(visual, "material", None)
    rgba = None
    if material is not None:
        factor = getattr(material, "baseColorFactor", None)
        if factor is not None:
            rgba = np.asarray(factor, dtype=np.float64)
        else:
            main = getattr(material, "main_color", None)
            rgba = None if main is None else np.asarray(main, dtype=np.float64)
    elif getattr(visual, "kind", None) in ("face", "vertex"):
        rgba = np.asarray(getattr(visual, "main_color", None), dtype=np.float64)
    if rgba is None:
        return np.array([0.8, 0.8, 0.8]), 1.0
    if rgba.max() > 1.0:
        rgba = rgba / 255.0
    return rgba[:3], float(rgba[3]) if len(rgba) > 3 else 1.0


def preview_png(design: Design, *, size: tuple[int, int] = (800, 600)) -> bytes:
    """Render ``design`` from the south-west, above, on white; returns PNG bytes of ``size`` (width, height).

    Textured parts are drawn in their material's base colour (a preview, not the viewer).
    """
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    import pyvista as pv
    from PIL import Image

    pv.OFF_SCREEN = True
    plotter: Any = pv.Plotter(off_screen=True, window_size=list(size))  # pyvista's decorators confuse mypy
    try:
        plotter.set_background("white")
        drawn = 0
        for mesh in design.meshes().values():
            if len(mesh.faces) == 0:
                continue
            faces = np.column_stack([np.full(len(mesh.faces), 3), mesh.faces]).ravel()
            poly = pv.PolyData(np.asarray(mesh.vertices, dtype=np.float64), faces)
            rgb, opacity = _colour(mesh)
            plotter.add_mesh(poly, color=rgb, opacity=opacity, smooth_shading=False, show_edges=False)
            drawn += 1
        if drawn == 0:
            raise DesignError(f"design {design.id!r} has nothing to draw")
        plotter.enable_lightkit()
        lo, hi = design.bounds
        centre = (lo + hi) / 2.0
        radius = float(np.linalg.norm(hi - lo))
        # From the south-west (-x, -y), 30° above: the +Y axis points into the picture.
        eye = centre + radius * np.array([-0.9, -1.3, 1.0])
        plotter.camera_position = [tuple(eye), tuple(centre), (0.0, 0.0, 1.0)]
        plotter.reset_camera()  # keeps the direction, fits the design in the picture
        plotter.camera.zoom(1.1)
        image = plotter.screenshot(return_img=True)
    finally:
        plotter.close()
    out = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(out, format="PNG", optimize=True)
    return out.getvalue()
