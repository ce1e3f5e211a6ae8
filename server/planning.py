"""What the planner and admin routes do, between HTTP and the database/store (handlers stay thin)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from server import jobs
from server.auth import Principal
from server.deps import Context
from server.models import AnchorIn
from server.store import check_name
from twin.errors import Conflict, ManifestError, NotFound


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
    if row["state"] == "succeeded":
        doc["preview"] = f"{base.rstrip('/')}/preview/{row['scene']}/{row['id']}/tileset.json"
    if with_log:
        doc["log"] = row.get("log") or ctx.db.builds.get(row["id"])["log"]
    return doc


def planner_scene(ctx: Context, scene: str, base: str) -> dict[str, Any]:
    """A scene with its variants, uploads, latest builds and published build."""
    jobs.reap(ctx.db, ctx.store)
    row = ctx.db.scenes.get(scene)
    return {
        "id": row["id"],
        "title": row["title"],
        "published": ctx.store.published(scene),
        "variants": ctx.db.scenes.variants(scene),
        "uploads": ctx.db.uploads.of_scene(scene),
        "builds": [build_doc(ctx, b, base) for b in ctx.db.builds.of_scene(scene, 20)],
    }


def put_variant(ctx: Context, scene: str, variant: str, title: str, removed: list[str]) -> dict[str, Any]:
    """Create or edit a variant (``existing`` names the city without designs and is not a variant)."""
    if variant == "existing":
        raise Conflict("'existing' is the city without designs; choose another variant id")
    ctx.db.scenes.put_variant(scene, variant, title, removed)
    return ctx.db.scenes.variant(scene, variant)


def place_design(
    ctx: Context, scene: str, variant: str, design: str, upload: str, title: str, anchor: AnchorIn
) -> dict[str, Any]:
    """Put an upload into a variant at ``anchor`` (checked by twin's own Anchor rules)."""
    from twin.designs.model import Anchor

    check_name("design", design)
    data = anchor.model_dump(exclude_none=True)
    try:
        Anchor.from_dict(data)
    except ManifestError as exc:
        raise ManifestError(str(exc).replace("anchor: ", "anchor: ", 1)) from exc
    ctx.db.scenes.put_design(scene, variant, design, upload, title, data)
    return ctx.db.scenes.variant(scene, variant)


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
