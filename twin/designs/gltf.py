"""glTF 2.0 / GLB designs: trimesh reads them with materials and textures, after their references are checked."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import trimesh

from twin.errors import DesignError

from .base import Loader, RawDesign, check_gltf_references, gltf_json


def read_gltf(path: Path, fmt: str) -> RawDesign:
    """Read a .gltf or .glb design (metres, Y up, as the spec says).

    Every buffer and image URI must be a ``data:`` URI or a file beside the design: a design that fetches
    from ``http:`` or reads ``file:`` paths is refused before trimesh opens anything.
    """
    check_gltf_references(gltf_json(path, fmt), path)
    try:
        scene = trimesh.load_scene(str(path), file_type=fmt)
    except DesignError:
        raise
    except Exception as exc:  # trimesh raises anything from KeyError to struct.error on broken files
        why = str(exc) or f"{type(exc).__name__} in the glTF reader (broken buffers or accessors?)"
        raise DesignError(f"{path.name}: unreadable glTF: {why}") from exc
    parts: dict[str, dict[str, Any]] = {}
    for node in scene.graph.nodes_geometry:
        _, geom_name = scene.graph[node]
        # The geometry name is stable across loads (node names get random suffixes when repeated).
        parts[node] = {"id": str(geom_name), "name": str(geom_name), "usage": "", "storey": ""}
    return RawDesign(scene=scene, parts=parts, up_axis="Y", unit_scale=1.0)


#: The formats this module reads (merged by :mod:`twin.designs.load`).
LOADERS: dict[str, Loader] = {"glb": partial(read_gltf, fmt="glb"), "gltf": partial(read_gltf, fmt="gltf")}
