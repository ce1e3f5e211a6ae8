"""Planning designs: import (IFC, glTF/GLB, OBJ, CityGML), georeferencing, metrics, preview, site and cut-out,
and the glb content of a placed design. :func:`check_design` is the one check of a design file (uploads).

Heavy modules (IfcOpenShell, pyvista) are imported only when a design needs them.
"""

from __future__ import annotations

from .check import DesignInfo, check_design
from .content import design_glb, placed_bounds
from .cutout import CutOut, cut_out, given_site, site_polygon
from .georef import grid_factors, place
from .load import MAX_EXTENT, MAX_TRIANGLES, load_design, sniff
from .metrics import building_metrics, footprint, metrics, metrics_delta
from .model import Anchor, Design, DesignSpec, FileGeoref, Placement, Storey

__all__ = [
    "MAX_EXTENT",
    "MAX_TRIANGLES",
    "Anchor",
    "CutOut",
    "Design",
    "DesignInfo",
    "DesignSpec",
    "FileGeoref",
    "Placement",
    "Storey",
    "building_metrics",
    "check_design",
    "cut_out",
    "design_glb",
    "footprint",
    "given_site",
    "grid_factors",
    "load_design",
    "metrics",
    "metrics_delta",
    "place",
    "placed_bounds",
    "site_polygon",
    "sniff",
]


def preview_png(*args: object, **kwargs: object) -> bytes:
    """See :func:`twin.designs.preview.preview_png` (imported on first use: pyvista is heavy)."""
    from .preview import preview_png as _preview

    return _preview(*args, **kwargs)  # type: ignore[arg-type]
