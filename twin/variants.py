"""Variants: placed designs, their cut-outs, and tilesets that share every untouched tile with the city.

For each variant the designs are imported and placed, buildings mostly inside a design's site are removed,
and only the quadtree tiles that held a removed building are encoded again. Every other tile of the variant's
tileset.json points at the same content-addressed blob as the existing city's tileset, so variants cost only
the tiles they change, and a viewer switching variants re-downloads only those.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
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
from .errors import BuildError, Cancelled, TwinError
from .records import Building
from .report import Report
from .scene import Scene, VariantSpec
from .store import write_blob, write_json_atomic
from .tile import TileNode

log = logging.getLogger(__name__)


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


class DesignFailed(BuildError):
    """A design of a variant cannot be imported or placed: its variant fails, the city and the others build."""

    def __init__(self, spec: Any, reason: str) -> None:
        self.design, self.title, self.file = spec.id, spec.title, design_file(spec)
        # Readers start their messages with the file's name: it is said once, before them; and the stored
        # file's path (the server's data folder) never reaches the planner.
        for name in (self.file, Path(spec.file).name):
            reason = reason.removeprefix(f"{name}: ")
        reason = reason.replace(str(spec.file), self.file).replace(str(Path(spec.file).parent), "")
        self.reason = reason
        super().__init__(f"design {spec.title!r} ({self.file}): {reason}")

    @classmethod
    def unreadable(cls, spec: Any, exc: OSError) -> DesignFailed:
        """The stored file went missing or unreadable (its path is not said)."""
        return cls(spec, f"cannot read the file: {exc.strerror or type(exc).__name__}")


def design_file(spec: Any) -> str:
    """The design's file as the planner knows it: the uploaded file's name, else the manifest's file name."""
    return str(getattr(spec, "filename", None) or Path(spec.file).name)


def place_design(
    spec: Any,
    frame: Frame,
    blob_dir: Path,
    geoid_undulation: float,
    imported: dict[str, Any] | None = None,
    terrain: Any = None,
) -> PlacedDesign:
    """Import, place and encode one design (raises :class:`DesignFailed` naming the design and file).

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
    except Cancelled:
        raise
    except TwinError as exc:
        raise DesignFailed(spec, str(exc)) from exc
    except OSError as exc:  # the stored file went unreadable
        raise DesignFailed.unreadable(spec, exc) from exc
    except Exception as exc:  # a reader library's own error on a hostile file: this design fails, not the city
        log.warning("design %r: %s", spec.id, exc, exc_info=True)
        raise DesignFailed(spec, f"{type(exc).__name__}: {exc}") from exc
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
    """Write ``variants/<id>/tileset.json`` for every variant; returns the scene.json entries of those built.

    A variant whose design cannot be imported or placed (or that leaves nothing to show) fails alone: its
    folder is removed, it is left out of the returned entries, and ``report.info["variants_failed"]`` gets
    ``{"id", "title", "design", "file", "error"}`` for it (see :func:`failure_message`); the city and the other
    variants are built. Only a cancel stops the stage.

    cache : designs and re-encoded tiles from an earlier build (see twin.incremental), updated in place
    terrain : the city's terrain (twin.context.terrain_layer.CityTerrain), or None: each variant with designs
        then writes ``variants/<id>/terrain/tileset.json`` with its sites levelled; ``terrain_blobs`` are the
        city terrain's blobs, to count the ones a variant shares
    """
    if not scene.variants:
        return []
    cache = cache if cache is not None else {}
    footprints = [b.footprint for b in buildings]
    with_fp = [i for i, f in enumerate(footprints) if f is not None]
    city = _City(
        scene,
        out,
        blob_dir,
        buildings,
        frame,
        contents,
        report,
        cache.setdefault("designs", {}),
        cache.setdefault("imported", {}),
        cache.setdefault("tiles", {}),
        tree,
        STRtree([footprints[i] for i in with_fp]),
        with_fp,
        _owners(tree),
        {n.key: n for n in tree.walk()},
        {b.id: i for i, b in enumerate(buildings)},
        "../../" + blob_prefix(out, blob_dir),
    )
    infos = []
    n = len(scene.variants)
    for vi, variant in enumerate(scene.variants):

        def step(fraction: float, vi: int = vi) -> None:
            progress("variants", (vi + max(0.0, min(1.0, fraction))) / n)

        log.info("variant %r (%s): %d design(s)", variant.title, variant.id, len(variant.designs))
        try:
            infos.append(
                _build_variant(
                    city,
                    variant,
                    step,
                    jobs=jobs,
                    compress=compress,
                    cancel=cancel,
                    build_id=build_id,
                    terrain=terrain,
                    terrain_blobs=terrain_blobs,
                )
            )
        except Cancelled:
            raise
        except TwinError as exc:
            failure = variant_failure(variant, exc)
            log.warning("%s; the city and the other variants are built", failure_message(failure))
            report.info.setdefault("variants_failed", []).append(failure)
            shutil.rmtree(out / "variants" / variant.id, ignore_errors=True)
        step(1.0)
    return infos


def variant_failure(variant: VariantSpec, exc: Exception) -> dict[str, Any]:
    """The record of a failed variant (report.json and scene.json ``variants_failed``; the build's status)."""
    if isinstance(exc, DesignFailed):
        return failure(variant.id, variant.title, exc.reason, exc.design, exc.title, exc.file)
    return failure(variant.id, variant.title, str(exc))


def failure(
    variant: str,
    title: str,
    error: str,
    design: str | None = None,
    design_title: str | None = None,
    file: str | None = None,
) -> dict[str, Any]:
    """A ``variants_failed`` record: the variant (id, title), its failing design (id, title, file) and why."""
    return {"id": variant, "title": title, "design": design, "design_title": design_title, "file": file, "error": error}


def failure_message(record: dict[str, Any]) -> str:
    """One line a planner reads: which variant failed, on which design and file, and why."""
    what = f"variant {record['title']!r} ({record['id']}) failed"
    if record.get("design"):
        what += f": design {record.get('design_title') or record['design']!r}"
    if record.get("file"):
        what += f", file {record['file']}"
    return f"{what}: {record['error']}"


@dataclass
class _City:
    """What every variant of one build reads: the existing city, its tiles and the caches between builds."""

    scene: Scene
    out: Path
    blob_dir: Path
    buildings: Sequence[Building]
    frame: Frame
    contents: dict[str, Any]
    report: Report
    designs: dict[str, PlacedDesign]
    imported: dict[str, Any]
    tiles: dict[str, Any]
    tree: TileNode
    strtree: STRtree
    with_fp: list[int]
    owner: dict[int, str]
    by_key: dict[str, TileNode]
    index: dict[str, int]
    prefix: str


def _build_variant(
    city: _City,
    variant: VariantSpec,
    step: Callable[[float], None],
    *,
    jobs: int,
    compress: bool,
    cancel: Callable[[], bool] | None,
    build_id: str,
    terrain: Any,
    terrain_blobs: set[str] | None,
) -> dict[str, Any]:
    """Place ``variant``'s designs, cut out, re-encode the touched tiles, write its tilesets; its scene.json entry.

    ``step`` gets the share of this variant done: placing the designs is the first half, the tiles the rest.
    """
    from .designs.cutout import cut_out
    from .designs.metrics import metrics_delta

    buildings, out, blob_dir, report = city.buildings, city.out, city.blob_dir, city.report
    placed = _place_all(variant, city, terrain, lambda f: step(0.5 * f))
    removed: set[str] = set()
    partial: list[dict[str, Any]] = []
    for p in placed:
        hits = [city.with_fp[j] for j in city.strtree.query(p.site)]
        spec = next((s for s in variant.designs if s.id == p.id), None)
        cut = cut_out(
            [buildings[i] for i in hits],
            p.site,
            _threshold(variant, p.id),
            keep=getattr(spec, "keep", ()),
            remove=getattr(spec, "remove", ()),
        )
        removed.update(cut.removed)
        partial.extend({"id": bid, "share": round(float(share), 3)} for bid, share in cut.partial)
    unknown = [bid for bid in variant.removed if bid not in city.index]
    for bid in unknown:
        report.skip(bid, "building to remove not in the scene")
    removed.update(bid for bid in variant.removed if bid in city.index)
    kept = {bid for bid in removed if bid in variant.removed}
    partial = [p for p in partial if p["id"] not in kept]
    touched: dict[str, list[str]] = {}
    for bid in removed:
        if bid in city.index and city.index[bid] in city.owner:
            touched.setdefault(city.owner[city.index[bid]], []).append(bid)
    variant_contents = dict(city.contents)
    tasks = []
    for key, ids in touched.items():
        tkey = f"{key}:{','.join(sorted(ids))}"
        if tkey in city.tiles:
            hit = city.tiles[tkey]
            if hit is None:
                variant_contents.pop(key, None)
            else:
                variant_contents[key] = hit
        else:
            tasks.append((key, city.by_key[key].members, tuple(sorted(ids))))
    if tasks:
        log.info("variant %r: encoding %d changed tile(s) again", variant.title, len(tasks))
    encoded = encode_tiles(
        tasks,
        buildings,
        city.frame,
        blob_dir,
        jobs=jobs,
        compress=compress,
        cancel=cancel,
        stage="variants",
        progress=lambda _stage, f: step(0.5 + 0.4 * f),
    )
    for key, _members, dropped in tasks:
        content = encoded.get(key)
        city.tiles[f"{key}:{','.join(dropped)}"] = content
        if content is None:
            variant_contents.pop(key, None)
        else:
            variant_contents[key] = content
    report.count("variant_tiles_encoded", len(tasks))
    root = assemble(city.tree, variant_contents, city.prefix)
    design_tiles = [Tile(Box(p.lo, p.hi), 0.0, content_uri=city.prefix + p.uri) for p in placed]
    if root is None:
        raise BuildError(f"variant {variant.id!r}: nothing left to show")
    tileset = wrap_root(root, design_tiles, city.frame)
    tileset.tileset_version = build_id
    layers = []
    if terrain is not None and placed:
        # The variant's own terrain: its design sites levelled; untouched tiles are the city's blobs.
        figures, blobs = write_variant_terrain(
            terrain,
            [(p.site, p.base) for p in placed],
            city.frame,
            out / "variants" / variant.id / "terrain",
            blob_dir,
            compress=compress,
            version=build_id,
        )
        shared = len(blobs & (terrain_blobs or set()))
        report.info.setdefault("terrain_variants", {})[variant.id] = {**figures, "tiles_shared": shared}
        layers.append({"id": "terrain", "tileset": f"variants/{variant.id}/terrain/tileset.json"})
    # The variant's tileset last: a variant that fails on the way leaves no tileset.json behind.
    write_json_atomic(out / "variants" / variant.id / "tileset.json", tileset.to_dict())
    removed_buildings = [buildings[city.index[b]] for b in sorted(removed) if b in city.index]
    return {
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
        "removed_unknown": unknown,
        "partial": partial,
        "metrics_delta": metrics_delta(_sum_metrics([p.metrics for p in placed]), removed_buildings),
        "tiles_changed": len(touched),
        "tiles_shared": len(city.contents) - len(touched),
        **({"layers": layers} if layers else {}),
    }


def _place_all(variant: VariantSpec, city: _City, terrain: Any, step: Callable[[float], None]) -> list[PlacedDesign]:
    placed = []
    for k, spec in enumerate(variant.designs):
        try:
            key = design_key(spec, city.frame, terrain)
        except OSError as exc:  # the stored file went missing or unreadable since it was placed
            raise DesignFailed.unreadable(spec, exc) from exc
        hit = city.designs.get(key)
        if hit is None or not (city.blob_dir / hit.uri).exists():
            log.info("variant %r: placing design %r (%s)", variant.title, spec.title, design_file(spec))
            hit = place_design(spec, city.frame, city.blob_dir, city.scene.geoid_undulation, city.imported, terrain)
            city.designs[key] = hit
            city.report.count("designs_placed")
        else:
            log.info("variant %r: design %r (%s) unchanged, reused", variant.title, spec.title, design_file(spec))
            city.report.count("designs_reused")
        placed.append(hit)
        step((k + 1) / len(variant.designs))
    return placed


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
