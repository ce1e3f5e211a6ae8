"""Wavefront OBJ + MTL designs, through trimesh (materials and textures kept)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import trimesh

from twin.errors import DesignError

from .base import Loader, RawDesign, check_uri

#: MTL statements naming a texture file (the file name is the statement's last token).
_MAP = re.compile(r"^\s*(map_\w+|bump|disp|decal|refl)\s+(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


def read_obj(path: Path) -> RawDesign:
    """Read an OBJ design; its MTL files and textures must lie beside it.

    OBJ carries neither units nor an up axis: metres and Y up (what most exporters write) unless the planner
    declares otherwise.
    """
    text = path.read_text(encoding="utf-8", errors="replace")
    # trimesh quietly drops faces on NaN/Inf vertices; a design with them is broken and should say so.
    bad = re.search(r"^\s*v\s+.*\b(nan|inf)", text, re.IGNORECASE | re.MULTILINE)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise DesignError(f"{path.name}: line {line}: vertex with NaN or infinite coordinates")
    for match in re.finditer(r"^\s*mtllib\s+(.+?)\s*$", text, re.MULTILINE):
        mtl = check_uri(match.group(1), path.parent, f"{path.name}: mtllib")
        if mtl is not None:
            mtl_text = mtl.read_text(encoding="utf-8", errors="replace")
            for tex in _MAP.finditer(mtl_text):
                # Options such as "-s 1 1 1" may precede the file name, which is the last token.
                check_uri(tex.group(2).split()[-1], path.parent, f"{mtl.name}: {tex.group(1)}")
    try:
        scene = trimesh.load_scene(str(path), file_type="obj", group_material=True, split_object=True)
    except Exception as exc:  # trimesh raises many kinds on broken files
        raise DesignError(f"{path.name}: unreadable OBJ: {exc}") from exc
    parts: dict[str, dict[str, Any]] = {}
    for node in scene.graph.nodes_geometry:
        parts[node] = {"id": node, "name": node, "usage": "", "storey": ""}
    return RawDesign(scene=scene, parts=parts, up_axis="Y", unit_scale=1.0)


#: The formats this module reads (merged by :mod:`twin.designs.load`).
LOADERS: dict[str, Loader] = {"obj": read_obj}
