"""Import a design file: recognise its format by content, read it, and bring it to local Z-up metres.

Each format module (:mod:`.ifc`, :mod:`.gltf`, :mod:`.obj`, :mod:`.citygml`) returns a :class:`RawDesign` in
the file's own frame; :func:`load_design` converts units and up axis, bakes node transforms into the meshes
(one node per part, identity transforms) and refuses designs that cannot be shown: empty, NaN/Inf,
absurdly large, or with too many triangles.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import trimesh

from twin.errors import DesignError

from .model import Design, FileGeoref, Storey
from .units import to_z_up, unit_scale

#: Refuse designs larger than this (metres, any axis): a building, not a city.
MAX_EXTENT = 2000.0
#: Refuse designs with more triangles than this: one design must not outweigh a city tile.
MAX_TRIANGLES = 2_000_000


@dataclass
class RawDesign:
    """What a format reader returns, before unit and axis conversion.

    scene : trimesh.Scene in the file's frame (node transforms not yet baked)
    parts : node name → part metadata (``id``, ``name``, ``usage``, ``storey``); nodes missing here get
        their node name as id and name
    up_axis : the file's up axis (``"Y"`` or ``"Z"``)
    unit_scale : metres per unit of ``scene``
    units_fixed : True when the file's units are authoritative (IFC: declared units are ignored)
    """

    scene: trimesh.Scene
    parts: dict[str, dict[str, Any]]
    up_axis: str = "Z"
    unit_scale: float = 1.0
    units_fixed: bool = False
    georef: FileGeoref | None = None
    storeys: tuple[Storey, ...] = ()
    space_area: float | None = None


def sniff(path: Path) -> str:
    """The format of ``path`` from its first bytes: ``ifc``, ``glb``, ``gltf``, ``obj`` or ``citygml``.

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
        if b"citygml" in head.lower():
            return "citygml"
        raise DesignError(f"{path.name}: an XML file, but not CityGML")
    try:
        sample = text.decode("utf-8")
    except UnicodeDecodeError:
        sample = text.decode("latin-1")
    if re.search(r"^\s*v\s+[-+\d.eE]+\s+[-+\d.eE]+\s+[-+\d.eE]+", sample, re.MULTILINE):
        return "obj"
    raise DesignError(f"{path.name}: unknown design format (expected IFC, glTF/GLB, OBJ or CityGML)")


def load_design(
    path: str | Path,
    *,
    units: str | None = None,
    up_axis: str | None = None,
    name: str | None = None,
    design_id: str | None = None,
    max_triangles: int = MAX_TRIANGLES,
    max_extent: float = MAX_EXTENT,
) -> Design:
    """Read a design file into local Z-up metres.

    units : declared length unit (``"mm"``, ``"cm"``, ``"m"``, ``"ft"``, ``"in"``) for files without their
        own (OBJ, glTF exported in the wrong unit); IFC units always come from the file
    up_axis : declared up axis, ``"Y"`` or ``"Z"``; defaults: glTF Y (the spec), OBJ Y (most exporters),
        IFC and CityGML Z
    Raises :class:`DesignError` naming the problem.
    """
    path = Path(path)
    fmt = sniff(path)
    raw = _read(path, fmt)
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
        source=path.name,
        unit_scale=scale,
        up_axis=axis,
    )


def _read(path: Path, fmt: str) -> RawDesign:
    # Imports inside: ifcopenshell is heavy and only IFC designs need it.
    if fmt == "ifc":
        from .ifc import read_ifc

        return read_ifc(path)
    if fmt in ("glb", "gltf"):
        from .gltf import read_gltf

        return read_gltf(path, fmt)
    if fmt == "obj":
        from .obj import read_obj

        return read_obj(path)
    from .citygml import read_citygml_design

    return read_citygml_design(path)


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


def check_uri(uri: str, base: Path, label: str) -> Path | None:
    """Refuse a reference that leaves the design's folder; return the local file it names, if any.

    Allowed: ``data:`` URIs (``None`` is returned) and relative paths to files beside the design (or below
    it). Refused: any scheme (``http:``, ``file:``, ...), absolute paths, ``..`` segments, missing files.
    """
    if uri.startswith("data:"):
        return None
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", uri) or uri.startswith(("/", "\\")):
        raise DesignError(f"{label}: external reference {uri!r} is not allowed (embed it or put it beside)")
    from urllib.parse import unquote

    rel = unquote(uri).replace("\\", "/")
    if ".." in rel.split("/"):
        raise DesignError(f"{label}: reference {uri!r} leaves the design's folder ('..' is not allowed)")
    target = (base / rel).resolve()
    if not target.is_relative_to(base.resolve()):
        raise DesignError(f"{label}: reference {uri!r} leaves the design's folder")
    if not target.is_file():
        raise DesignError(f"{label}: referenced file {uri!r} does not exist beside the design")
    return target


def gltf_json(path: Path, fmt: str) -> dict[str, Any]:
    """The JSON part of a .gltf or .glb file (to check its references before trimesh follows them).

    A GLB must be glTF 2.0, as long as its header says and start with a complete JSON chunk; anything else
    is a :class:`DesignError` naming the file (the server's upload check uses this too).
    """
    data = path.read_bytes()
    name = path.name
    if fmt == "glb":
        if len(data) < 20:
            raise DesignError(f"{name}: unreadable glTF: truncated GLB (only {len(data)} bytes)")
        _magic, version, length = struct.unpack_from("<4sII", data)
        if version != 2:
            raise DesignError(f"{name}: unreadable glTF: GLB version {version}, only glTF 2.0 is supported")
        if length != len(data):
            raise DesignError(
                f"{name}: unreadable glTF: truncated GLB: header says {length} bytes, file has {len(data)}"
            )
        json_len, kind = struct.unpack_from("<I4s", data, 12)
        if kind != b"JSON" or 20 + json_len > len(data):
            raise DesignError(f"{name}: unreadable glTF: GLB without a complete JSON chunk")
        text = data[20 : 20 + json_len]
    else:
        text = data
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DesignError(f"{name}: unreadable glTF JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise DesignError(f"{name}: unreadable glTF: the JSON is not an object")
    return doc
