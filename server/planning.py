"""What the planner and admin routes do, between HTTP and the database/store (handlers stay thin)."""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path
from typing import Any

import pyproj

from server import jobs, placements
from server.auth import Principal
from server.deps import Context
from server.errors import InsufficientStorage, Unprocessable
from server.models import AnchorIn
from server.store import check_name
from twin.crs import horizontal_crs
from twin.errors import Conflict, CRSError, ManifestError, NotFound, StoreError


def scene_for(ctx: Context, who: Principal, scene: str) -> dict[str, Any]:
    """The registered scene, if the caller may touch it; :class:`NotFound` otherwise (no hint)."""
    check_name("scene", scene)
    who.check_scene(scene)
    return ctx.db.scenes.get(scene)


def build_doc(ctx: Context, row: dict[str, Any], base: str, with_log: bool = False) -> dict[str, Any]:
    """A build row as the API shows it: published flag and preview URL (complete builds only)."""
    doc = {
        k: row.get(k) for k in ("id", "scene", "state", "stage", "progress", "error", "created", "started", "finished")
    }
    doc["published"] = ctx.store.published(row["scene"]) == row["id"]
    doc["error"] = redact(ctx, doc.get("error"))
    if row["state"] == "succeeded":
        doc["preview"] = f"{base.rstrip('/')}/preview/{row['scene']}/{row['id']}/tileset.json"
    if with_log:
        doc["log"] = redact(ctx, row.get("log") or ctx.db.builds.get(row["id"])["log"])
    return doc


def planner_scene(ctx: Context, scene: str, base: str) -> dict[str, Any]:
    """A scene with its variants, uploads, latest builds and published build."""
    jobs.reap(ctx.db, ctx.store)
    row = ctx.db.scenes.get(scene)
    return {
        "id": row["id"],
        "title": row["title"],
        "published": ctx.store.published(scene),
        "variants": [placements.variant_out(v) for v in ctx.db.scenes.variants(scene)],
        "uploads": ctx.db.uploads.of_scene(scene),
        "builds": [build_doc(ctx, b, base) for b in ctx.db.builds.of_scene(scene, 20)],
    }


def put_variant(ctx: Context, scene: str, variant: str, title: str, removed: list[str]) -> dict[str, Any]:
    """Create or edit a variant (``existing`` names the city without designs and is not a variant)."""
    if variant == "existing":
        raise Conflict("'existing' is the city without designs; choose another variant id")
    ctx.db.scenes.put_variant(scene, variant, title, removed)
    return variant_doc(ctx, scene, variant)


def variant_doc(ctx: Context, scene: str, variant: str) -> dict[str, Any]:
    """A variant with its placed designs as the API shows them (see :mod:`server.placements`)."""
    return placements.variant_out(ctx.db.scenes.variant(scene, variant))


def place_design(
    ctx: Context,
    scene: str,
    variant: str,
    design: str,
    upload: str,
    title: str,
    anchor: AnchorIn,
    keep: list[str] | None = None,
    remove: list[str] | None = None,
) -> dict[str, Any]:
    """Put an upload into a variant at ``anchor`` (checked by twin's own Anchor rules), with the planner's
    choices of overlapped buildings to ``keep`` and to ``remove``."""
    from twin.designs.model import Anchor

    check_name("design", design)
    data = anchor.model_dump(exclude_none=True)
    try:
        Anchor.from_dict(data)
    except ManifestError as exc:
        raise ManifestError(str(exc).replace("anchor: ", "anchor: ", 1)) from exc
    lon, lat = anchor_lonlat(data)
    _check_near_scene(ctx, scene, lon, lat)
    ctx.db.scenes.put_design(scene, variant, design, upload, title, placements.stored(data, keep or (), remove or ()))
    return variant_doc(ctx, scene, variant)


#: A placement this far (degrees) outside the published scene's bounds is refused: surely a typo.
NEAR_SCENE_DEGREES = 0.5
#: Only EPSG codes name an anchor's CRS: an arbitrary PROJ string could be anything (and break every build).
EPSG_RE = re.compile(r"^EPSG:\d{4,6}$", re.IGNORECASE)


def anchor_lonlat(anchor: dict[str, Any]) -> tuple[float, float]:
    """An anchor's position in degrees (WGS 84); :class:`Unprocessable` for an unusable ``crs`` or position.

    Checked when a design is placed, so one careless placement fails its own request, not every build.
    """
    if "lon" in anchor and "lat" in anchor:
        return float(anchor["lon"]), float(anchor["lat"])
    crs = str(anchor.get("crs", ""))
    if not EPSG_RE.match(crs):
        raise Unprocessable(f"anchor.crs {crs!r}: give an EPSG code such as 'EPSG:25832'")
    try:
        parsed = horizontal_crs(crs)
    except CRSError as exc:
        raise Unprocessable(f"anchor.crs {crs!r} is not a known CRS") from exc
    if not parsed.is_projected:
        raise Unprocessable(f"anchor.crs {crs!r} is not projected; give lon and lat for geographic positions")
    to_wgs84 = pyproj.Transformer.from_crs(parsed, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(float(anchor["easting"]), float(anchor["northing"]), errcheck=False)
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise Unprocessable(f"anchor easting/northing are not a place on Earth in {crs}")
    return float(lon), float(lat)


def _check_near_scene(ctx: Context, scene: str, lon: float, lat: float) -> None:
    build = ctx.store.published(scene)
    if build is None:
        return
    try:
        bounds = ctx.store.scene_info(scene, build).get("bounds")
    except (NotFound, StoreError):
        return
    if not (isinstance(bounds, list) and len(bounds) >= 4 and all(isinstance(b, int | float) for b in bounds)):
        return
    w, s, e, n = (float(b) for b in bounds[:4])
    d = NEAR_SCENE_DEGREES
    if not (w - d <= lon <= e + d and s - d <= lat <= n + d):
        raise Unprocessable(
            f"the design would stand at lon {lon:.5f}, lat {lat:.5f}, far outside scene {scene!r} "
            f"(bounds {w:.4f}, {s:.4f}, {e:.4f}, {n:.4f}); check the position"
        )


def redact(ctx: Context, text: str | None) -> str | None:
    """A build error or log as planners see it: no server paths, no Python tracebacks."""
    if not text:
        return text
    out = []
    in_traceback = False
    for line in text.splitlines():
        if line.startswith("Traceback (most recent call last)"):
            in_traceback = True
            continue
        if in_traceback:
            if line.startswith((" ", "\t")) or not line.strip():
                continue
            in_traceback = False  # the exception line itself: keep it (redacted below)
        out.append(line)
    joined = "\n".join(out)
    for root, name in _path_roots(ctx):
        joined = joined.replace(root, name)
    return joined


def _path_roots(ctx: Context) -> list[tuple[str, str]]:
    roots = [
        (str(Path(ctx.settings.data_dir).resolve()), "<data>"),
        (str(Path(ctx.settings.data_dir)), "<data>"),
        (str(Path(ctx.settings.scenes_dir).resolve()), "<scenes>"),
        (str(Path(__file__).resolve().parent.parent), "<server>"),
        (str(Path.home()), "~"),
    ]
    # Longest first, so a data dir inside the repository is not cut at the repository's root.
    return sorted({r for r in roots if len(r[0]) > 1}, key=lambda r: -len(r[0]))


def public_scene_row(row: dict[str, Any]) -> dict[str, Any]:
    """A registered scene as planners see it: without the manifest's path on the server."""
    return {k: v for k, v in row.items() if k != "manifest"}


#: Disk space kept free for builds and the database whatever uploads come (507 below it).
DISK_RESERVE_BYTES = 256 * 1024**2


def upload_allowance(ctx: Context, scene: str, declared: int | None) -> int:
    """Bytes the next upload to ``scene`` may have: :class:`InsufficientStorage` if it may have none.

    The scene's quota (``scene_quota_bytes``, ``scene_quota_uploads``) and the disk's free space both count,
    so the same 200 MB file cannot be stored again and again until the disk is full.
    """
    rows = ctx.db.uploads.of_scene(scene)
    settings = ctx.settings
    if len(rows) >= settings.scene_quota_uploads:
        raise InsufficientStorage(
            f"scene {scene!r} has {len(rows)} uploads, its quota; delete some before uploading more"
        )
    left = settings.scene_quota_bytes - sum(int(r["size"]) for r in rows)
    free = shutil.disk_usage(settings.data_dir).free - DISK_RESERVE_BYTES
    if declared is not None and declared > left:
        raise InsufficientStorage(
            f"this upload ({declared} bytes) would pass scene {scene!r}'s quota ({left} bytes left of "
            f"{settings.scene_quota_bytes}); delete uploads no variant uses"
        )
    if (declared or 1) > free:
        raise InsufficientStorage("the server's disk is full; nothing was stored, try again later")
    if left <= 0:
        raise InsufficientStorage(f"scene {scene!r} has used its upload quota of {settings.scene_quota_bytes} bytes")
    return min(left, free)


def delete_upload(ctx: Context, scene: str, upload: str) -> None:
    """Forget an upload and delete its file."""
    row = ctx.db.uploads.get(upload)
    if row["scene"] != scene:
        raise NotFound(f"upload {upload!r} not found")
    ctx.db.uploads.delete(upload)
    shutil.rmtree(Path(ctx.settings.data_dir) / "uploads" / check_name("upload", upload), ignore_errors=True)


def publish(ctx: Context, scene: str, build: str, base: str) -> dict[str, Any]:
    """Publish a succeeded build (precompress its JSON, swap the pointer)."""
    row = ctx.db.builds.get(build, scene)
    if row["state"] != "succeeded":
        raise Conflict(f"build {build!r} is {row['state']}; only a succeeded build can be published")
    ctx.store.publish(scene, build)
    return build_doc(ctx, ctx.db.builds.get(build), base)


def register_scene(ctx: Context, scene: str, title: str, manifest: str | None) -> dict[str, Any]:
    """Register a scene whose manifest exists (default ``<scenes_dir>/<scene>/scene.toml``)."""
    check_name("scene", scene)
    path = Path(manifest) if manifest else Path(ctx.settings.scenes_dir) / scene / "scene.toml"
    if not path.is_file():
        raise ManifestError(f"scene manifest {path} does not exist")
    ctx.db.scenes.put(scene, title, str(path.resolve()))
    return ctx.db.scenes.get(scene)
