"""Import a design file: recognise its format by content, read it, and bring it to local Z-up metres.

Each format module (:mod:`.ifc`, :mod:`.gltf`, :mod:`.obj`, :mod:`.citygml`) exports ``LOADERS`` (format →
reader) returning a :class:`.base.RawDesign` in the file's own frame; :func:`load_design` dispatches through
them, converts units and up axis, bakes node transforms into the meshes (one node per part, identity
transforms) and refuses designs that cannot be shown: empty, NaN/Inf, absurdly large, or with too many
triangles."""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import trimesh

from twin.errors import DesignError

from .base import Loader
from .ifczip import ifc_member
from .model import Design
from .units import to_z_up, unit_scale

#: Which module reads each format (each exports ``LOADERS``: format → reader). Modules are imported when a
#: design of theirs is read: IfcOpenShell is heavy and only IFC designs need it.
FORMAT_MODULES = {"ifc": "ifc", "ifczip": "ifc", "glb": "gltf", "gltf": "gltf", "obj": "obj", "citygml": "citygml"}
#: Refuse designs larger than this (metres, any axis): a building, not a city.
MAX_EXTENT = 2000.0
#: Refuse designs with more triangles than this: one design must not outweigh a city tile.
MAX_TRIANGLES = 2_000_000


def sniff(path: Path) -> str:
    """The format of ``path`` from its first bytes: ``ifc``, ``ifczip``, ``glb``, ``gltf``, ``obj`` or ``citygml``.

    Raises :class:`DesignError` when the file is unreadable or no known format.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError as exc:
        raise DesignError(f"{path.name}: cannot read design file: {exc.strerror or exc}") from exc
    if not head.strip():
        raise DesignError(f"{path.name}: the design file is empty")
    if head[:4] == b"glTF":
        return "glb"
    if head[:4] == b"PK\x03\x04":
        ifc_member(path)  # exactly one IFC inside, or a DesignError naming what is there
        return "ifczip"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"ISO-10303-21"):
        if re.search(rb"FILE_SCHEMA\s*\(\s*\(\s*'IFC", text, re.IGNORECASE):
            return "ifc"
        raise DesignError(f"{path.name}: a STEP file, but not IFC")
    if text.startswith(b"{"):
        if b'"asset"' in head:
            return "gltf"
        raise DesignError(f"{path.name}: a JSON file, but not glTF (no 'asset')")
    if text.startswith(b"<"):
        if re.search(rb"ifcXML|iso_10303_28|ifc\.xsd", head, re.IGNORECASE):
            raise DesignError(
                f"{path.name}: ifcXML is not supported (IfcOpenShell cannot read it); export IFC (.ifc) or ifcZIP"
            )
        if b"citygml" in head.lower():
            return "citygml"
        raise DesignError(f"{path.name}: an XML file, but not CityGML")
    try:
        sample = text.decode("utf-8")
    except UnicodeDecodeError:
        sample = text.decode("latin-1")
    if re.search(r"^\s*v\s+[-+\d.eE]+\s+[-+\d.eE]+\s+[-+\d.eE]+", sample, re.MULTILINE):
        return "obj"
    raise DesignError(f"{path.name}: unknown design format (expected IFC, ifcZIP, glTF/GLB, OBJ or CityGML)")


def load_design(
    path: str | Path,
    *,
    units: str | None = None,
    up_axis: str | None = None,
    name: str | None = None,
    design_id: str | None = None,
    source: str | None = None,
    max_triangles: int = MAX_TRIANGLES,
    max_extent: float = MAX_EXTENT,
) -> Design:
    """Read a design file into local Z-up metres.

    units : declared length unit (``"mm"``, ``"cm"``, ``"m"``, ``"ft"``, ``"in"``) for files without their
        own (OBJ, glTF exported in the wrong unit); IFC units always come from the file
    up_axis : declared up axis, ``"Y"`` or ``"Z"``; defaults: glTF Y (the spec), OBJ Y (most exporters),
        IFC and CityGML Z
    name, design_id : the design's title and id (default: the file's stem)
    source : the file's name as the planner knows it (an upload is stored as ``design.<ext>``); default:
        the file's own name
    Raises :class:`DesignError` naming the problem.
    """
    path = Path(path)
    fmt = sniff(path)
    raw = loader_for(fmt)(path)
    scale = raw.unit_scale
    if units is not None and not raw.units_fixed:
        try:
            scale = unit_scale(units)
        except ValueError as exc:
            raise DesignError(f"{path.name}: {exc}") from exc
    axis = (up_axis or raw.up_axis).upper()
    try:
        to_local = to_z_up(axis, scale)
    except ValueError as exc:
        raise DesignError(f"{path.name}: {exc}") from exc
    scene, parts = _bake(raw.scene, raw.parts, to_local, path.name, max_triangles)
    _check(scene, path.name, max_extent)
    return Design(
        id=design_id or path.stem,
        name=name or path.stem,
        format=fmt,
        scene=scene,
        parts=parts,
        georef=raw.georef,
        storeys=raw.storeys,
        space_area=raw.space_area,
        space_area_source=raw.space_area_source,
        source=source or path.name,
        unit_scale=scale,
        up_axis=axis,
    )


def loader_for(fmt: str) -> Loader:
    """The reader of a design format, from its module's ``LOADERS`` table (the module is imported now)."""
    module = FORMAT_MODULES.get(fmt)
    if module is None:
        raise DesignError(f"unknown design format {fmt!r}; expected one of {', '.join(FORMAT_MODULES)}")
    loaders: dict[str, Loader] = importlib.import_module(f"twin.designs.{module}").LOADERS
    return loaders[fmt]


def _bake(
    scene: trimesh.Scene,
    parts: Mapping[str, Mapping[str, Any]],
    to_local: np.ndarray,
    label: str,
    max_triangles: int,
) -> tuple[trimesh.Scene, dict[str, dict[str, Any]]]:
    """One node per part with its transform baked in, so later stages never walk a scene graph."""
    nodes = list(scene.graph.nodes_geometry)
    total = 0
    for node in nodes:
        _, geom_name = scene.graph[node]
        geom = scene.geometry.get(geom_name)
        if isinstance(geom, trimesh.Trimesh):
            total += len(geom.faces)
    if total == 0:
        raise DesignError(f"{label}: the design has no triangles")
    if total > max_triangles:
        raise DesignError(f"{label}: {total:,} triangles, more than the limit of {max_triangles:,}")
    out = trimesh.Scene()
    out_parts: dict[str, dict[str, Any]] = {}
    for node in nodes:
        transform, geom_name = scene.graph[node]
        geom = scene.geometry.get(geom_name)
        if not isinstance(geom, trimesh.Trimesh) or len(geom.faces) == 0:
            continue
        if not np.all(np.isfinite(geom.vertices)) or not np.all(np.isfinite(transform)):
            raise DesignError(f"{label}: part {node!r} has NaN or infinite coordinates")
        matrix = to_local @ np.asarray(transform, dtype=np.float64)
        # Normals given by the file (glTF, OBJ) live in trimesh's cache; keep them through the transform,
        # so smooth surfaces stay smooth. Meshes without them are shaded flat later (see content.py).
        normals = geom._cache["vertex_normals"] if "vertex_normals" in geom._cache else None  # noqa: SIM401 (no .get)
        mesh = geom.copy()
        mesh.apply_transform(matrix)
        if normals is not None and len(normals) == len(mesh.vertices):
            n = np.asarray(normals, dtype=np.float64) @ np.linalg.inv(matrix[:3, :3])
            mesh.vertex_normals = n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)  # type: ignore[method-assign]
        meta = dict(parts.get(node, {}))
        meta.setdefault("id", node)
        meta.setdefault("name", node)
        meta.setdefault("usage", "")
        meta.setdefault("storey", "")
        # Name nodes by the part's stable id (trimesh invents random suffixes for repeated glTF names).
        name = str(meta["id"])
        k = 1
        while name in out_parts:
            name = f"{meta['id']}#{k}"
            k += 1
        out.add_geometry(mesh, node_name=name, geom_name=name)
        out_parts[name] = meta
    return out, out_parts


def _check(scene: trimesh.Scene, label: str, max_extent: float) -> None:
    if len(scene.geometry) == 0:
        raise DesignError(f"{label}: the design has no triangles")
    bounds = np.asarray(scene.bounds, dtype=np.float64)
    if not np.all(np.isfinite(bounds)):
        raise DesignError(f"{label}: the design has NaN or infinite coordinates")
    extent = bounds[1] - bounds[0]
    if float(extent.max()) > max_extent:
        raise DesignError(
            f"{label}: the design is {float(extent.max()):,.0f} m across, more than {max_extent:,.0f} m "
            "(wrong units? declare them, e.g. units = 'mm')"
        )
    if float(extent.max()) <= 0.0 or not math.isfinite(float(extent.max())):
        raise DesignError(f"{label}: the design has no extent")
