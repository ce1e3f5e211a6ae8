"""What the design format readers share: the :class:`RawDesign` they return and the checks of file references.

Format modules (:mod:`.ifc`, :mod:`.gltf`, :mod:`.obj`, :mod:`.citygml`) import this module, never
:mod:`.load`, which dispatches to them through their ``LOADERS`` tables.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trimesh

from twin.errors import DesignError

from .model import FileGeoref, Storey


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
    space_area_source: str = ""


#: A format reader: the design file → its :class:`RawDesign` (each format module's ``LOADERS`` values).
Loader = Callable[[Path], RawDesign]


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
    except RecursionError:
        # json recurses once per level: thousands of nested arrays are a hostile file, not a server error.
        raise DesignError(f"{name}: unreadable glTF JSON: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DesignError(f"{name}: unreadable glTF JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise DesignError(f"{name}: unreadable glTF: the JSON is not an object")
    return doc


def check_gltf_references(doc: dict[str, Any], path: Path, *, self_contained: bool = False) -> None:
    """Refuse buffer and image URIs of a glTF document that :func:`check_uri` refuses.

    self_contained : refuse every URI but ``data:`` (an uploaded design is one file: nothing lies beside it)
    """
    for kind in ("buffers", "images"):
        items = doc.get(kind, [])
        if not isinstance(items, list):
            raise DesignError(f"{path.name}: glTF '{kind}' is not a list")
        for i, item in enumerate(items):
            uri = item.get("uri") if isinstance(item, dict) else None
            if not isinstance(uri, str):
                continue
            if self_contained and not uri.startswith("data:"):
                raise DesignError(
                    f"{path.name}: {kind}[{i}] names an external file {uri!r}; upload a self-contained GLB"
                )
            check_uri(uri, path.parent, f"{path.name}: {kind}[{i}]")
