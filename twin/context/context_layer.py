"""The street context layers of a build: roads, areas and trees from the OSM sources, as tilesets.

The build calls :func:`scene_context` (read the scene's OSM sources' context elements, classify them, project
them into the working CRS, keep what lies around the buildings) and :func:`write_context` (mesh each layer,
encode its tiles into ``blobs/`` and write ``roads/tileset.json``, ``areas/tileset.json`` and
``trees/tileset.json``). Each layer is a flat grid of :data:`TILE_SIZE` tiles under a root without
content (ADD-refined, placed by the scene frame's root transform like the terrain); a feature goes to the
tile holding its representative point. Every drawn feature is a row of the layer's property table (OSM id,
kind, tags as JSON), so picking a road, an area or a tree shows its tags like a building's.

The manifest's ``[context]`` table switches layers (``roads``, ``areas``, ``trees``; all on by default for
scenes with OSM sources).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import box

from twin.context.drape import Surface
from twin.context.green import AreaPieces, area_colors, area_pieces, mesh_areas
from twin.context.osmfeatures import area_kind, classify
from twin.context.project import project_feature
from twin.context.records import AreaFeature, Feature, LineFeature, PointFeature
from twin.context.streets import line_width, mesh_roads, road_colors, road_pieces
from twin.context.terrain import HeightGrid
from twin.context.trees import Trees, place_trees, shape_meshes
from twin.crs import Frame
from twin.encode.glb import (
    _ELEMENT_ARRAY_BUFFER,
    _FLOAT,
    _UNSIGNED_SHORT,
    MeshBatch,
    _Accessors,
    _Buffers,
    _material,
    _srgb_to_linear_float,
    encode_glb,
    pack_glb,
    to_gltf_axes,
)
from twin.encode.metadata import PropertySpec, PropertyTable, encode_property_table
from twin.encode.tileset import Box, Tile, Tileset
from twin.errors import ManifestError, TwinError
from twin.read.osmcontext import OsmElement
from twin.report import Report
from twin.store import write_blob, write_json_atomic

#: Report reasons of ways cut at the extract's edge: drawn with the nodes inside, or an area left out.
CUT_KEPT = "context: cut at the extract's edge (drawn with the nodes inside)"
CUT_AREA = "context: area cut at the extract's edge (its ring is open)"
#: Keys a ``[context]`` table may hold.
CONTEXT_KEYS = {"roads", "areas", "trees", "margin"}
#: Side of a context tile (m).
TILE_SIZE = 1000.0
#: Geometric error (m) of the empty tile above each leaf, per layer: trees load within about 3 km of the camera
#: (at the desktop's 12 px target and a 700 px high 50° view), so a city's far trees cost nothing.
NEAR = {"trees": 50.0}
#: Source formats that carry OSM context.
OSM_FORMATS = ("osm", "osm-geojson")
#: The metadata class of every context layer: one row per OSM feature.
CONTEXT_PROPERTIES = {
    "id": PropertySpec("STRING", required=True, description="OSM id, e.g. way/123"),
    "kind": PropertySpec("STRING", required=True, description="road class, area kind or tree kind"),
    "tags": PropertySpec("STRING", no_data="", description="the OSM tags as a JSON object"),
    "width": PropertySpec("SCALAR", "FLOAT32", no_data=-1.0, description="metres across (roads)"),
}


@dataclass(frozen=True)
class ContextSpec:
    """The manifest's ``[context]`` table: which layers to build and how far beyond the buildings (m)."""

    roads: bool = True
    areas: bool = True
    trees: bool = True
    margin: float = 100.0

    @classmethod
    def from_dict(cls, data: Any, where: str = "[context]") -> ContextSpec:
        """Parse a ``[context]`` table. Raises ManifestError naming the key."""
        if not isinstance(data, dict):
            raise ManifestError(f"{where} must be a table")
        unknown = sorted(set(data) - CONTEXT_KEYS)
        if unknown:
            raise ManifestError(f"{where}: unknown keys {unknown}; expected some of {sorted(CONTEXT_KEYS)}")
        for key in ("roads", "areas", "trees"):
            if not isinstance(data.get(key, True), bool):
                raise ManifestError(f"{where}: {key} must be true or false")
        margin = data.get("margin", 100.0)
        if isinstance(margin, bool) or not isinstance(margin, int | float) or not (0 <= margin < 1e5):
            raise ManifestError(f"{where}: margin must be a number of metres from 0 to 100000")
        return cls(data.get("roads", True), data.get("areas", True), data.get("trees", True), float(margin))

    @property
    def any(self) -> bool:
        """Whether any layer is on."""
        return self.roads or self.areas or self.trees


@dataclass
class ContextFeatures:
    """A scene's context records in the working CRS, by type."""

    lines: list[LineFeature] = field(default_factory=list)
    areas: list[AreaFeature] = field(default_factory=list)
    points: list[PointFeature] = field(default_factory=list)
    read_seconds: float = 0.0


def read_context(
    paths: Sequence[Path], crs: str, extent: tuple[float, float, float, float], report: Report
) -> ContextFeatures:
    """The context features of OSM files, projected to ``crs`` and clipped to ``extent`` (working CRS).

    A feature met twice (a closed way read as a line and as an area by osmium, or in two sources) is kept
    once; broken ones are skipped into the report. A way cut at the extract's edge is reported as repaired
    where what is left of it is drawn (a road's part inside), as skipped where it is an area whose ring is
    no longer closed; self-intersecting areas are repaired (:func:`twin.context.osmfeatures.classify`).
    """
    from twin.read.osmcontext import read_osm_context

    started = time.perf_counter()
    out = ContextFeatures()
    clip = box(*extent)
    seen: set[tuple[str, str]] = set()
    for path in paths:
        for element in read_osm_context(path, report=report):
            try:
                feature = classify(element, path.name, report)
                if element.cut:
                    _report_cut(element, feature, report)
                if feature is None:
                    continue
                key = (type(feature).__name__, feature.id)
                if key in seen:
                    continue
                seen.add(key)
                feature = project_feature(feature, crs)  # type: ignore[type-var]
                if not feature.geometry.intersects(clip):
                    continue
            except (TwinError, ValueError, shapely.errors.GEOSException) as exc:
                report.skip(element.id, f"context: {type(exc).__name__}")
                continue
            if isinstance(feature, LineFeature):
                out.lines.append(feature)
            elif isinstance(feature, AreaFeature):
                out.areas.append(feature)
            else:
                out.points.append(feature)
    out.read_seconds = round(time.perf_counter() - started, 3)
    return out


def _report_cut(element: OsmElement, feature: Feature | None, report: Report) -> None:
    """Report a way cut at the extract's edge: drawn with the nodes inside, or left out (an open area ring)."""
    if feature is not None:
        report.repair(element.id, CUT_KEPT)
    elif area_kind(element.tags) is not None:
        report.skip(element.id, CUT_AREA)


def scene_context(
    scene: Any, crs: str, bounds: tuple[float, float, float, float], report: Report
) -> ContextFeatures | None:
    """The context of a :class:`twin.scene.Scene` around ``bounds`` (the buildings'), or None when it has none."""
    spec: ContextSpec | None = getattr(scene, "context", None)
    if spec is None or not spec.any:
        return None
    paths = [s.path for s in scene.sources if s.format in OSM_FORMATS]
    if not paths:
        return None
    m = spec.margin
    minx, miny, maxx, maxy = bounds
    return read_context(paths, crs, (minx - m, miny - m, maxx + m, maxy + m), report)


# -- tiles -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContextContent:
    """One encoded context tile: glb bytes, its extent in the root frame's local coordinates, counts."""

    glb: bytes
    lo: np.ndarray
    hi: np.ndarray
    features: int
    triangles: int


def _cell(x: float, y: float) -> tuple[int, int]:
    return math.floor(x / TILE_SIZE), math.floor(y / TILE_SIZE)


def _rows(features: Sequence[Feature], kinds: Sequence[str]) -> dict[str, list[Any]]:
    return {
        "id": [f.id for f in features],
        "kind": list(kinds),
        "tags": [json.dumps(dict(f.tags), ensure_ascii=False, sort_keys=True) for f in features],
        "width": [f.width if isinstance(f, LineFeature) else None for f in features],
    }


def encode_surface(
    surface: Surface, colors: np.ndarray, table: PropertyTable, frame: Frame, *, compress: bool = True
) -> ContextContent:
    """A draped surface (owner = property table row) as a glb placed exactly in ``frame``."""
    local = frame.exact_local(surface.positions)
    batch = MeshBatch(local, surface.normals, surface.indices, surface.owner, colors)
    glb = encode_glb(batch, table, compress=compress)
    return ContextContent(glb, local.min(axis=0), local.max(axis=0), table.count, len(surface.indices))


def encode_trees(trees: Trees, frame: Frame) -> ContextContent:
    """Trees as a glb: one mesh per shape, each tree an instance (EXT_mesh_gpu_instancing), metadata per row.

    Instance translations are relative to the node's (the tile's centre), so FLOAT32 keeps them to a tenth
    of a millimetre; scales are (crown, height, crown) in glTF's Y-up axes. Feature ids ride along as the
    instance attribute ``_FEATURE_ID_0`` (EXT_instance_features).
    """
    local = frame.exact_local(trees.positions)
    centre = (local.min(axis=0) + local.max(axis=0)) / 2.0
    buffers, accessors = _Buffers(), _Accessors()
    meshes, nodes = [], []
    triangles = 0
    for index, shape in enumerate(shape_meshes()):
        chosen = trees.shapes == index
        if not chosen.any():
            continue
        # Trunk and crown in one primitive coloured per vertex: one draw call per shape and tile.
        gp = to_gltf_axes(np.concatenate([part[0] for part in shape.parts])).astype(np.float32)
        gn = to_gltf_axes(np.concatenate([part[1] for part in shape.parts])).astype(np.float32)
        colors = np.concatenate([np.tile(part[3], (len(part[0]), 1)) for part in shape.parts])
        linear = _srgb_to_linear_float(colors).astype(np.float32)
        starts = np.cumsum([0] + [len(part[0]) for part in shape.parts[:-1]])
        faces = np.concatenate([part[2].astype(np.int64) + s for part, s in zip(shape.parts, starts, strict=True)])
        p = accessors.add(
            _FLOAT, "VEC3", len(gp), buffers.add_attribute(gp), min=gp.min(0).tolist(), max=gp.max(0).tolist()
        )
        attributes = {
            "POSITION": p,
            "NORMAL": accessors.add(_FLOAT, "VEC3", len(gn), buffers.add_attribute(gn)),
            "COLOR_0": accessors.add(_FLOAT, "VEC3", len(linear), buffers.add_attribute(linear)),
        }
        index_view = buffers.add(faces.astype("<u2").tobytes(), target=_ELEMENT_ARRAY_BUFFER)
        indices = accessors.add(_UNSIGNED_SHORT, "SCALAR", faces.size, index_view)
        primitives = [{"attributes": attributes, "indices": indices, "material": 0}]
        meshes.append({"primitives": primitives})
        translation = to_gltf_axes(local[chosen] - centre).astype(np.float32)
        scale = np.column_stack([trees.crowns[chosen], trees.heights[chosen], trees.crowns[chosen]]).astype(np.float32)
        fid = trees.feature[chosen].astype(np.float32).reshape(-1, 1)
        count = int(chosen.sum())
        attributes = {
            "TRANSLATION": accessors.add(_FLOAT, "VEC3", count, buffers.add(translation.tobytes())),
            "SCALE": accessors.add(_FLOAT, "VEC3", count, buffers.add(scale.tobytes())),
            "_FEATURE_ID_0": accessors.add(_FLOAT, "SCALAR", count, buffers.add(fid.tobytes())),
        }
        nodes.append(
            {
                "mesh": len(meshes) - 1,
                "translation": to_gltf_axes(centre[None, :])[0].tolist(),
                "extensions": {
                    "EXT_mesh_gpu_instancing": {"attributes": attributes},
                    "EXT_instance_features": {
                        "featureIds": [{"featureCount": len(trees.rows), "attribute": 0, "propertyTable": 0}]
                    },
                },
            }
        )
        triangles += shape.triangles * count
    table = PropertyTable("tree", CONTEXT_PROPERTIES, _tree_columns(trees))
    metadata = encode_property_table(table, buffers.add_table_view)
    gltf: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": "urban-twin"},
        "extensionsUsed": ["EXT_mesh_gpu_instancing", "EXT_instance_features", "EXT_structural_metadata"],
        "extensionsRequired": ["EXT_mesh_gpu_instancing"],
        "extensions": {"EXT_structural_metadata": metadata},
        "scene": 0,
        "scenes": [{"nodes": list(range(len(nodes)))}],
        "nodes": nodes,
        "meshes": meshes,
        "materials": [_material([1.0, 1.0, 1.0, 1.0])],
        "accessors": accessors.items,
        "bufferViews": buffers.views,
        "buffers": buffers.buffers(),
    }
    lo = local.min(axis=0)
    hi = local.max(axis=0) + np.array([0.0, 0.0, float(trees.heights.max())])
    lo[:2] -= trees.crowns.max() / 2
    hi[:2] += trees.crowns.max() / 2
    return ContextContent(pack_glb(gltf, bytes(buffers.data)), lo, hi, len(trees.rows), triangles)


def _tree_columns(trees: Trees) -> dict[str, list[Any]]:
    return {
        "id": [r["id"] for r in trees.rows],
        "kind": [r["kind"] for r in trees.rows],
        "tags": [json.dumps(dict(r["tags"]), ensure_ascii=False, sort_keys=True) for r in trees.rows],
        "width": [None] * len(trees.rows),
    }


def subset_trees(trees: Trees, chosen: np.ndarray) -> Trees:
    """The trees where ``chosen`` (a mask), their feature rows renumbered to those used."""
    used, feature = np.unique(trees.feature[chosen], return_inverse=True)
    return Trees(
        trees.positions[chosen],
        trees.heights[chosen],
        trees.crowns[chosen],
        trees.shapes[chosen],
        feature.astype(np.int64),
        [trees.rows[i] for i in used],
    )


def context_tileset(
    contents: Mapping[str, ContextContent], uris: Mapping[str, str], frame: Frame, near: float | None = None
) -> Tileset:
    """A layer's tileset: a root without content over one leaf per tile, under the scene frame's transform.

    near : where given, each leaf sits under an empty tile of this geometric error (m), so a viewer loads a
        tile only within a distance of its box (about 60 × ``near`` at the desktop's 12 px; trees use it)
    """
    children = [Tile(Box(c.lo, c.hi), 0.0, uris[key]) for key, c in sorted(contents.items()) if c.features]
    if near is not None:
        children = [Tile(c.box, near, None, children=[c]) for c in children]
    top = Box(children[0].box.lo, children[0].box.hi)
    for child in children[1:]:
        top = top.union(child.box)
    # Tiles load within about TILE_SIZE (a screen-space error of 16 px at that distance, roughly).
    root = Tile(top, max(TILE_SIZE / 4.0, near or 0.0), None, "ADD", frame.matrix, children)
    return Tileset(root=root, geometric_error=TILE_SIZE / 2.0)


def _surface_tiles(
    polygons: Sequence[Any],
    mesh: Callable[[list[int]], tuple[Surface, np.ndarray, PropertyTable]],
    frame: Frame,
    compress: bool,
) -> dict[str, ContextContent]:
    """Group pieces by tile (their representative point) and encode each group."""
    cells: dict[tuple[int, int], list[int]] = {}
    points = shapely.point_on_surface(np.array(polygons, dtype=object))
    for i, p in enumerate(points):
        cells.setdefault(_cell(p.x, p.y), []).append(i)
    out = {}
    for (cx, cy), members in cells.items():
        surface, colors, table = mesh(members)
        if surface.triangles:
            out[f"{cx}_{cy}"] = encode_surface(surface, colors, table, frame, compress=compress)
    return out


def roads_tiles(
    lines: Sequence[LineFeature],
    grid: HeightGrid | None,
    frame: Frame,
    compress: bool = True,
    built: Any = None,
) -> dict[str, ContextContent]:
    """The roads layer's tiles (sidewalks and bridge decks with them; ``built``: the buildings, for sidewalks)."""
    pieces = road_pieces(lines, built)
    if not pieces.lines:
        return {}

    def mesh(members: list[int]) -> tuple[Surface, np.ndarray, PropertyTable]:
        part = pieces.subset(members)
        surface = mesh_roads(part, grid)
        kinds = [f"{c} bridge" if bridge else c for c, bridge in zip(part.classes, part.bridges, strict=True)]
        columns = _rows(part.lines, kinds)
        columns["width"] = [round(width, 2) for width in part.widths]
        return surface, road_colors(part, surface.owner), PropertyTable("road", CONTEXT_PROPERTIES, columns)

    return _surface_tiles(pieces.polygons, mesh, frame, compress)


def areas_tiles(
    areas: Sequence[AreaFeature], grid: HeightGrid | None, frame: Frame, compress: bool = True
) -> dict[str, ContextContent]:
    """The areas layer's tiles."""
    pieces = area_pieces(areas)
    if not pieces.areas:
        return {}

    def mesh(members: list[int]) -> tuple[Surface, np.ndarray, PropertyTable]:
        part = AreaPieces([pieces.areas[i] for i in members], [pieces.polygons[i] for i in members])
        surface = mesh_areas(part, grid)
        table = PropertyTable("area", CONTEXT_PROPERTIES, _rows(part.areas, [a.kind for a in part.areas]))
        return surface, area_colors(part, surface.owner), table

    return _surface_tiles(pieces.polygons, mesh, frame, compress)


def trees_tiles(trees: Trees, frame: Frame) -> dict[str, ContextContent]:
    """The trees layer's tiles."""
    if not len(trees):
        return {}
    cells = np.floor(trees.positions[:, :2] / TILE_SIZE).astype(np.int64)
    out = {}
    for cx, cy in np.unique(cells, axis=0):
        chosen = (cells[:, 0] == cx) & (cells[:, 1] == cy)
        out[f"{cx}_{cy}"] = encode_trees(subset_trees(trees, chosen), frame)
    return out


def _store(
    layer: str, contents: Mapping[str, ContextContent], frame: Frame, out: Path, blob_dir: Path, version: str
) -> tuple[dict[str, Any], set[str], dict[str, Any], str]:
    """Write a layer's blobs and tileset.json; its figures, blob names, tileset document and blob prefix."""
    layer_dir = out / layer
    prefix = _blob_prefix(layer_dir, blob_dir)
    names = {key: write_blob(blob_dir, c.glb) for key, c in contents.items()}
    tileset = context_tileset(contents, {k: prefix + n for k, n in names.items()}, frame, NEAR.get(layer))
    tileset.tileset_version = version
    doc = tileset.to_dict()
    write_json_atomic(layer_dir / "tileset.json", doc)
    figures = {
        "tiles": len(contents),
        "features": sum(c.features for c in contents.values()),
        "triangles": sum(c.triangles for c in contents.values()),
        "bytes": sum(len(c.glb) for c in contents.values()),
    }
    return figures, set(names.values()), doc, prefix


def _blob_prefix(layer_dir: Path, blob_dir: Path) -> str:
    return os.path.relpath(blob_dir.resolve(), layer_dir.resolve()).replace(os.sep, "/") + "/"


def _reprefixed(node: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """A copy of a tileset node whose content URIs start with ``new`` instead of ``old`` (the blob folder moved)."""
    out = dict(node)
    content = node.get("content")
    if isinstance(content, dict) and str(content.get("uri", "")).startswith(old):
        out["content"] = {**content, "uri": new + content["uri"][len(old) :]}
    if node.get("children"):
        out["children"] = [_reprefixed(c, old, new) for c in node["children"]]
    return out


def reuse_context(cache: dict[str, Any], out: Path, blob_dir: Path, version: str) -> list[dict[str, Any]]:
    """Write the context tilesets an earlier build made (``cache`` from :func:`build_context`) into ``out``.

    The blobs are the earlier build's (the incremental state adopts them into ``blob_dir``); only the tilesets'
    blob prefix and version change. Returns the scene.json ``layers`` entries.
    """
    for name, (doc, prefix) in cache["tilesets"].items():
        layer_dir = out / name
        new = dict(doc)
        new["root"] = _reprefixed(doc["root"], prefix, _blob_prefix(layer_dir, blob_dir))
        new["asset"] = {**doc.get("asset", {}), "tilesetVersion": version}
        write_json_atomic(layer_dir / "tileset.json", new)
    return [dict(layer) for layer in cache["layers"]]


def write_context(
    context: ContextFeatures,
    spec: ContextSpec,
    frame: Frame,
    grid: HeightGrid | None,
    out: Path,
    blob_dir: Path,
    *,
    avoid: Any = None,
    compress: bool = True,
    version: str = "",
) -> tuple[list[dict[str, Any]], dict[str, Any], set[str]]:
    """Mesh, encode and store every switched-on layer that has features.

    grid : the ground (None: z = 0); avoid : where no scattered tree may stand (e.g. the footprints)
    Returns the scene.json ``layers`` entries, figures per layer for the report, and the blobs used.
    """
    layers: list[dict[str, Any]] = []
    info: dict[str, Any] = {"read_seconds": context.read_seconds}
    blobs: set[str] = set()
    tilesets: dict[str, tuple[dict[str, Any], str]] = {}
    builders: list[tuple[str, bool, Callable[[], dict[str, ContextContent]]]] = [
        ("roads", spec.roads, lambda: roads_tiles(context.lines, grid, frame, compress, avoid)),
        ("areas", spec.areas, lambda: areas_tiles(context.areas, grid, frame, compress)),
        ("trees", spec.trees, lambda: trees_tiles(_trees(context, grid, avoid), frame)),
    ]
    for name, on, build in builders:
        if not on:
            continue
        started = time.perf_counter()
        contents = build()
        if not contents:
            continue
        figures, used, doc, prefix = _store(name, contents, frame, out, blob_dir, version)
        figures["seconds"] = round(time.perf_counter() - started, 3)
        info[name] = figures
        blobs |= used
        tilesets[name] = (doc, prefix)
        layers.append({"id": name, "tileset": f"{name}/tileset.json", "features": figures["features"]})
    info["tilesets"] = tilesets
    return layers, info, blobs


def _trees(context: ContextFeatures, grid: HeightGrid | None, avoid: Any) -> Trees:
    roads = [shapely.buffer(line.geometry, line_width(line) / 2) for line in context.lines if line.kind != "tree_row"]
    blocked = shapely.union_all([*roads, avoid] if avoid is not None else roads) if roads or avoid is not None else None
    return place_trees(context.points, context.lines, context.areas, grid, blocked)


def build_context(
    scene: Any,
    crs: str,
    footprints: Sequence[Any],
    grid: HeightGrid | None,
    frame: Frame,
    out: Path,
    blob_dir: Path,
    report: Report,
    *,
    compress: bool = True,
    version: str = "",
    cache: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The build's context layers around the buildings' ``footprints``: scene.json ``layers`` entries.

    Figures per layer (tiles, features, triangles, bytes, seconds) go to ``report.info["context"]``.
    cache : the incremental state's entry for the context (valid while the sources, terrain and settings that
        shape the city are unchanged, which its caller checks): an entry for the same ``[context]`` settings
        is reused without reading or meshing anything; otherwise it is filled with this build's layers
    """
    key = repr(scene.context)
    if cache is not None and cache.get("key") == key:
        report.info["context"] = {**cache["info"], "reused": True}
        return reuse_context(cache, out, blob_dir, version)
    polygons = [f for f in footprints if f is not None]
    if not polygons:
        return []
    b = np.array([p.bounds for p in polygons])
    bounds = (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))
    context = scene_context(scene, crs, bounds, report)
    if context is None:
        return []
    avoid = shapely.union_all(np.array(polygons, dtype=object))
    layers, info, blobs = write_context(
        context, scene.context, frame, grid, out, blob_dir, avoid=avoid, compress=compress, version=version
    )
    tilesets = info.pop("tilesets")
    report.info["context"] = info
    if cache is not None:
        cache.clear()
        cache.update(key=key, layers=layers, info=info, tilesets=tilesets, blobs=sorted(blobs))
    return layers
