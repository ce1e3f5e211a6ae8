"""Functions behind the ``twin serve`` and ``twin token ...`` commands (twin/cli.py wires them up)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from server.auth import create_token
from server.settings import Settings
from server.storage import Database
from server.store import SceneStore, check_name


def serve(settings: Settings) -> None:
    """Run the server with uvicorn (httptools + uvloop when installed), ``settings.workers`` processes.

    With several workers uvicorn imports the app in each process, so the settings travel as TWIN_*
    environment variables to :func:`server.app.app_from_env`.
    """
    import uvicorn

    for key, value in settings.model_dump(mode="json").items():
        if value is not None:
            os.environ[f"TWIN_{key.upper()}"] = value if isinstance(value, str) else _env(value)
    uvicorn.run(
        "server.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=max(1, settings.workers),
        log_level="warning",
        access_log=False,
        proxy_headers=True,
        loop="auto",
        http="auto",
    )


def _env(value: Any) -> str:
    import json

    return json.dumps(value)


def token_create(settings: Settings, role: str, scenes: list[str], name: str) -> str:
    """Create a token and return its secret (shown once; only its sha256 is stored)."""
    _, secret = create_token(Database(settings.db_path), role, scenes, name)
    return secret


def token_list(settings: Settings) -> list[dict[str, Any]]:
    """All tokens: id, name, role, scenes, created, revoked (never the secret)."""
    return Database(settings.db_path).tokens.all()


def token_revoke(settings: Settings, token_id: int) -> None:
    """Revoke a token by id (:class:`twin.errors.NotFound` if unknown)."""
    Database(settings.db_path).tokens.revoke(token_id)


def publish_folder(settings: Settings, scene: str, folder: Path, title: str | None = None) -> str:
    """Import a build folder made by ``twin build`` into the store and publish it; returns the build id.

    Registers the scene if needed (manifest ``<scenes_dir>/<scene>/scene.toml`` when it exists).
    """
    check_name("scene", scene)
    db = Database(settings.db_path)
    store = SceneStore(settings.data_dir)
    manifest = Path(settings.scenes_dir) / scene / "scene.toml"
    if not any(s["id"] == scene for s in db.scenes.all()):
        db.scenes.put(scene, title or scene, str(manifest.resolve()) if manifest.is_file() else "")
    build = db.builds.create(scene)
    try:
        store.import_folder(scene, build, Path(folder))
    except BaseException as exc:
        db.builds.finish(build, "failed", f"import failed: {exc}")
        raise
    db.builds.append_log(build, f"imported from {folder}")
    db.builds.update(build, stage="done", progress=1.0, started=db.builds.get(build)["created"])
    db.builds.finish(build, "succeeded")
    store.publish(scene, build)
    return build
