"""Variants: placed designs, their cut-outs, and tilesets that share every untouched tile with the city.

For each variant the designs are imported and placed, buildings mostly inside a design's site are removed,
and only the quadtree tiles that held a removed building are encoded again. Every other tile of the variant's
tileset.json points at the same content-addressed blob as the existing city's tileset, so variants cost only
the tiles they change, and a viewer switching variants re-downloads only those.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import Polygon
from shapely.strtree import STRtree

from .assemble import assemble, blob_prefix, wrap_root
from .content import encode_tiles
from .context.terrain_layer import site_base, write_variant_terrain
from .crs import Frame
from .encode.tileset import Box, Tile
from .errors import BuildError, TwinError
from .records import Building
from .report import Report
from .scene import Scene, VariantSpec
from .store import write_blob, write_json_atomic
from .tile import TileNode


@dataclass
class PlacedDesign:
    """A design placed in the scene: its tile, site and metrics (what a variant needs, cacheable)."""

    id: str
    title: str
    uri: str
    lo: np.ndarray
    hi: np.ndarray
    site: Polygon
    metrics: dict[str, Any]
    placement: dict[str, Any]
    preview: str | None = None
    base: float = 0.0  # working z where the design's local z = 0 stands (its levelled site's height)


def design_key(spec: Any, frame: Frame, terrain: Any = None) -> str:
    """A fingerprint of everything that decides a placed design: file bytes, spec and scene frame."""
    h = hashlib.sha256()
    h.update(Path(spec.file).read_bytes())
    fields = {k: getattr(spec, k) for k in ("id", "title", "anchor", "units", "up_axis", "site_buffer", "site_crs")}
    h.update(repr(fields).encode())
    h.update(b"" if spec.site is None else np.asarray(spec.site).tobytes())
    h.update(repr((frame.crs, frame.height, frame.origin.tolist())).encode())
    if terrain is not None:  # a design anchored on the ground stands on the terrain
        h.update(terrain.spec.fingerprint().encode())
    return h.hexdigest()


def import_key(spec: Any) -> str:
    """A fingerprint of what decides an imported design (not its placement): file bytes, units, up axis, names."""
    h = hashlib.sha256(Path(spec.file).read_bytes())
    h.update(repr((spec.units, spec.up_axis, spec.title, spec.id, getattr(spec, "filename", None))).encode())
    return h.hexdigest()


def place_design(
    spec: Any,
    frame: Frame,
    blob_dir: Path,
    geoid_undulation: float,
    imported: dict[str, Any] | None = None,
    terrain: Any = None,
) -> PlacedDesign:
    """Import, place and encode one design (raises :class:`BuildError` naming the design on failure).

    imported : cache of imported designs by :func:`import_key`, so moving a design does not import it again
        (tessellating an IFC model takes seconds; placing it, a fraction of one)
    """
    from .designs.content import design_glb, placed_bounds
    from .designs.cutout import given_site, site_polygon
    from .designs.georef import check_near_scene, place
    from .designs.load import load_design
    from .designs.metrics import metrics

    imported = imported if imported is not None else {}
    try:
        key = import_key(spec)
        design = imported.get(key)
        if design is None:
            design = load_design(
                spec.file,
                units=spec.units,
                up_axis=spec.up_axis,
                name=spec.title,
                design_id=spec.id,
                source=spec.filename,
            )
            imported[key] = design
        placement = place(design, frame.crs, spec.anchor, ground_height=frame.height, geoid_undulation=geoid_undulation)
        if spec.site is not None:
            site = given_site(spec.site, frame.crs, spec.site_crs)
        else:
            site = site_polygon(design, placement, spec.site_buffer)
        if terrain is not None and spec.anchor is not None and spec.anchor.datum == "ground":
            # "ground" is the terrain's: the design stands on the lowest ground of its site.
            anchor = replace(spec.anchor, elevation=spec.anchor.elevation + site_base(terrain, site))
            placement = place(design, frame.crs, anchor, ground_height=frame.height, geoid_undulation=geoid_undulation)
        check_near_scene(design, placement, frame.origin)
        centre = placement.matrix[:3, 3]
        glb = design_glb(design, placement, frame, centre, translate=True)
        # The tile's box: the placed bounding box's corners, in the root frame.
        (x0, y0, z0), (x1, y1, z1) = placed_bounds(design, placement)
        corners = np.array([[x, y, z] for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)])
        local = frame.exact_local(corners)
        lo, hi = local.min(axis=0), local.max(axis=0)
    except TwinError as exc:
        raise BuildError(f"design {spec.id!r} ({Path(spec.file).name}): {exc}") from exc
    uri = write_blob(blob_dir, glb)
    info = placement.report() if hasattr(placement, "report") else {}
    preview = _preview(design, key, blob_dir, imported)
    base = float(placement.matrix[2, 3])
    return PlacedDesign(spec.id, spec.title, uri, lo, hi, site, metrics(design, placement), info, preview, base)


def _preview(design: Any, key: str, blob_dir: Path, imported: dict[str, Any]) -> str | None:
    """The design's preview PNG as a blob (rendered once per imported design); None if it cannot render.

    A preview is a convenience: a machine without OpenGL still builds, the variant just has no picture.
    """
    from .designs.preview import preview_png

    cache_key = f"preview:{key}"
    png = imported.get(cache_key)
    if png is None:
        try:
            png = preview_png(design)
        except Exception:  # VTK raises plain RuntimeErrors without a display or GL
            return None
        imported[cache_key] = png
    return write_blob(blob_dir, png, ".png")


def _owners(tree: TileNode) -> dict[int, str]:
    """Building index → key of the tile that holds it."""
    return {int(i): node.key for node in tree.walk() for i in node.members}


def build_variants(
    scene: Scene,
    out: Path,
    blob_dir: Path,
    buildings: Sequence[Building],
    frame: Frame,
    tree: TileNode,
    contents: dict[str, Any],
    report: Report,
    *,
    jobs: int,
    compress: bool,
    progress: Callable[[str, float], None],
    cancel: Callable[[], bool] | None,
    build_id: str,
    cache: dict[str, Any] | None = None,
    terrain: Any = None,
    terrain_blobs: set[str] | None = None,
) -> list[dict[str, Any]]:
    """Write ``variants/<id>/tileset.json`` for every variant; returns their scene.json entries.

    cache : designs and re-encoded tiles from an earlier build (see twin.incremental), updated in place
    terrain : the city's terrain (twin.context.terrain_layer.CityTerrain), or None: each variant with designs
        then writes ``variants/<id>/terrain/tileset.json`` with its sites levelled; ``terrain_blobs`` are the
        city terrain's blobs, to count the ones a variant shares
    """
    from .designs.cutout import cut_out
    from .designs.metrics import metrics_delta

    if not scene.variants:
        return []
    cache = cache if cache is not None else {}
    designs_cache: dict[str, PlacedDesign] = cache.setdefault("designs", {})
    imported: dict[str, Any] = cache.setdefault("imported", {})
    tiles_cache: dict[str, Any] = cache.setdefault("tiles", {})
    footprints = [b.footprint for b in buildings]
    with_fp = [i for i, f in enumerate(footprints) if f is not None]
    strtree = STRtree([footprints[i] for i in with_fp])
    owner = _owners(tree)
    by_key = {n.key: n for n in tree.walk()}
    prefix = "../../" + blob_prefix(out, blob_dir)
    infos = []
    for vi, variant in enumerate(scene.variants):
        placed, removed, partial = _place_all(variant, frame, blob_dir, scene, designs_cache, imported, report, terrain)
        for p in placed:
            hits = [with_fp[j] for j in strtree.query(p.site)]
            cut = cut_out([buildings[i] for i in hits], p.site, _threshold(variant, p.id))
            removed.update(cut.removed)
            partial.extend({"id": bid, "share": round(float(share), 3)} for bid, share in cut.partial)
        index = {b.id: i for i, b in enumerate(buildings)}
        touched: dict[str, list[str]] = {}
        for bid in removed:
            if bid in index and index[bid] in owner:
                touched.setdefault(owner[index[bid]], []).append(bid)
        variant_contents = dict(contents)
        tasks = []
        for key, ids in touched.items():
            tkey = f"{key}:{','.join(sorted(ids))}"
            if tkey in tiles_cache:
                hit = tiles_cache[tkey]
                if hit is None:
                    variant_contents.pop(key, None)
                else:
                    variant_contents[key] = hit
            else:
                tasks.append((key, by_key[key].members, tuple(sorted(ids))))
        encoded = encode_tiles(
            tasks, buildings, frame, blob_dir, jobs=jobs, compress=compress, cancel=cancel, stage="variants"
        )
        for key, _members, dropped in tasks:
            content = encoded.get(key)
            tiles_cache[f"{key}:{','.join(dropped)}"] = content
            if content is None:
                variant_contents.pop(key, None)
            else:
                variant_contents[key] = content
        report.count("variant_tiles_encoded", len(tasks))
        city = assemble(tree, variant_contents, prefix)
        design_tiles = [Tile(Box(p.lo, p.hi), 0.0, content_uri=prefix + p.uri) for p in placed]
        if city is None:
            raise BuildError(f"variant {variant.id!r}: nothing left to show")
        tileset = wrap_root(city, design_tiles, frame)
        tileset.tileset_version = build_id
        write_json_atomic(out / "variants" / variant.id / "tileset.json", tileset.to_dict())
        layers = []
        if terrain is not None and placed:
            # The variant's own terrain: its design sites levelled; untouched tiles are the city's blobs.
            figures, blobs = write_variant_terrain(
                terrain,
                [(p.site, p.base) for p in placed],
                frame,
                out / "variants" / variant.id / "terrain",
                blob_dir,
                compress=compress,
                version=build_id,
            )
            shared = len(blobs & (terrain_blobs or set()))
            report.info.setdefault("terrain_variants", {})[variant.id] = {**figures, "tiles_shared": shared}
            layers.append({"id": "terrain", "tileset": f"variants/{variant.id}/terrain/tileset.json"})
        removed_buildings = [buildings[index[b]] for b in sorted(removed) if b in index]
        infos.append(
            {
                "id": variant.id,
                "title": variant.title,
                "tileset": f"variants/{variant.id}/tileset.json",
                "designs": [
                    {
                        "id": p.id,
                        "title": p.title,
                        "metrics": p.metrics,
                        "placement": p.placement,
                        "preview": None if p.preview is None else blob_prefix(out, blob_dir) + p.preview,
                    }
                    for p in placed
                ],
                "removed": sorted(removed),
                "partial": partial,
                "metrics_delta": metrics_delta(_sum_metrics([p.metrics for p in placed]), removed_buildings),
                "tiles_changed": len(touched),
                "tiles_shared": len(contents) - len(touched),
                **({"layers": layers} if layers else {}),
            }
        )
        progress("variants", (vi + 1) / len(scene.variants))
    return infos


def _place_all(
    variant: VariantSpec,
    frame: Frame,
    blob_dir: Path,
    scene: Scene,
    designs_cache: dict[str, PlacedDesign],
    imported: dict[str, Any],
    report: Report,
    terrain: Any = None,
) -> tuple[list[PlacedDesign], set[str], list[dict[str, Any]]]:
    placed = []
    for spec in variant.designs:
        key = design_key(spec, frame, terrain)
        hit = designs_cache.get(key)
        if hit is None or not (blob_dir / hit.uri).exists():
            hit = place_design(spec, frame, blob_dir, scene.geoid_undulation, imported, terrain)
            designs_cache[key] = hit
            report.count("designs_placed")
        else:
            report.count("designs_reused")
        placed.append(hit)
    return placed, set(), []


def _threshold(variant: VariantSpec, design_id: str) -> float:
    for spec in variant.designs:
        if spec.id == design_id:
            return float(spec.cutout_threshold)
    return 0.5


def _sum_metrics(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Designs of one variant together: sums of areas and volumes, the tallest height."""
    if len(items) == 1:
        return items[0]
    out: dict[str, Any] = {}
    for m in items:
        for k, v in m.items():
            if isinstance(v, int | float) and not isinstance(v, bool):
                out[k] = max(out.get(k, 0), v) if k == "height" else out.get(k, 0) + v
    return out


def sites_geojson(placed: Sequence[PlacedDesign], frame: Frame) -> list[dict[str, Any]]:
    """Design sites as lon/lat polygons (for scene.json and the planner page)."""
    out = []
    for p in placed:
        ring = np.asarray(p.site.exterior.coords)
        out.append({"id": p.id, "site": frame.to_lonlat(ring).round(7).tolist()})
    return out
