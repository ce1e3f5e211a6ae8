"""Wavefront OBJ + MTL designs, through trimesh (materials and textures kept)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import trimesh

from twin.errors import DesignError

from .base import Loader, RawDesign, check_uri


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
    mtl_name = referenced_mtl(path.read_bytes())
    if mtl_name:
        mtl = check_uri(mtl_name, path.parent, f"{path.name}: mtllib")
        if mtl is not None:
            for texture in referenced_textures(mtl.read_bytes()):
                check_uri(texture, path.parent, f"{mtl.name}: map_Kd")
    try:
        scene = trimesh.load_scene(str(path), file_type="obj", group_material=True, split_object=True)
    except Exception as exc:  # trimesh raises many kinds on broken files
        raise DesignError(f"{path.name}: unreadable OBJ: {exc}") from exc
    parts: dict[str, dict[str, Any]] = {}
    for node in scene.graph.nodes_geometry:
        parts[node] = {"id": node, "name": node, "usage": "", "storey": ""}
    return RawDesign(scene=scene, parts=parts, up_axis="Y", unit_scale=1.0)


def referenced_mtl(data: bytes) -> str | None:
    """The material library trimesh's OBJ loader will open, read exactly as it reads it.

    trimesh (``trimesh.exchange.obj.load_obj``) takes the first ``mtllib`` *anywhere* in the text, not only
    as a statement (``o xmtllib /etc/passwd`` names ``/etc/passwd``), after joining backslash-continued
    lines, and reads the rest of that line. Checking anything else would check a file it never opens.
    """
    text = trimesh.util.decode_text(data)
    text = "\n{}\n".format(text.strip().replace("\r\n", "\n")).replace("\\\n", "")
    position = text.find("mtllib")
    if position < 0:
        return None
    name = text[position + 6 : text.find("\n", position)].strip()
    return name or None


def referenced_textures(data: bytes) -> list[str]:
    """The texture files trimesh's MTL parser will open, read exactly as it reads them.

    ``trimesh.exchange.obj.parse_mtl`` opens only ``map_Kd`` (the first word of a line, any case, lines
    split by :meth:`str.splitlines`) and takes the whole rest of the line as the file name, options and all.
    """
    names = []
    for line in str.splitlines(trimesh.util.decode_text(data).strip()):
        words = line.strip().split()
        if len(words) > 1 and words[0].lower() == "map_kd":
            index = line.lower().index("map_kd") + 6
            names.append(line[index:].strip())
    return names


#: The formats this module reads (merged by :mod:`twin.designs.load`).
LOADERS: dict[str, Loader] = {"obj": read_obj}
