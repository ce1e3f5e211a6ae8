"""Functions behind the ``twin serve`` and ``twin token ...`` commands (twin/cli.py wires them up)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from server.auth import create_token
from server.settings import Settings
from server.storage import Database
from server.store import SceneStore, check_name
from twin.errors import TwinError


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
    if manifest.is_file():  # recorded sensors pages come with the scene; live ones are the refresher's job
        try:
            sensors_ingest(settings, manifest, live=False)
        except TwinError as exc:  # the scene is published either way; its sensors status says what failed
            logging.getLogger(__name__).warning("sensors of %s not ingested: %s", scene, exc)
    return build


def sensors_ingest(settings: Settings, scene_path: Path, live: bool = True) -> list[dict[str, Any]]:
    """Ingest the ``[[sensors]]`` of a scene manifest (folder or scene.toml); returns each source's state.

    Stations are kept within the published build's bounds (plus each source's margin) when there is one.
    """
    from server.sensors.ingest import ingest_scene, scene_bounds
    from twin.scene import load_scene

    scene = load_scene(scene_path)
    db = Database(settings.db_path)
    if not any(s["id"] == scene.id for s in db.scenes.all()):
        db.scenes.put(scene.id, scene.title, str(Path(scene_path).resolve()))
    store = SceneStore(settings.data_dir)
    build = store.published(scene.id)
    bounds = scene_bounds(store.build_dir(scene.id, build) / "scene.json") if build else None
    return ingest_scene(db, scene.id, scene.sensors, bounds, live=live)


def register_sensors(app: Any) -> None:
    """Add ``twin sensors ingest <scene>`` to a typer app (the server's command registration calls this)."""
    import json
    import sys

    import typer

    sensors_app = typer.Typer(help="Traffic sensors of a scene (SensorThings).", no_args_is_help=True)

    @sensors_app.command("ingest")
    def ingest(
        scene: Path = typer.Argument(..., help="A scene folder or scene.toml with [[sensors]]"),  # noqa: B008
        config: Path | None = typer.Option(None, "--config", help="Server config file (TOML)"),  # noqa: B008
        recorded_only: bool = typer.Option(False, "--recorded-only", help="Skip live sources"),
    ) -> None:
        """Ingest the scene's stations and observations (idempotent); prints each source's state as JSON."""
        from server.settings import load_settings
        from twin.errors import TwinError

        try:
            states = sensors_ingest(load_settings(config), scene, live=not recorded_only)
        except TwinError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from exc
        sys.stdout.write(json.dumps(states, indent=2, default=str) + "\n")
        if any(s["state"] != "ok" for s in states):
            raise typer.Exit(code=1)

    app.add_typer(sensors_app, name="sensors")
