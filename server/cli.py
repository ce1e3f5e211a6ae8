"""The server's ``twin`` commands: ``serve``, ``demo`` and ``token ...``, and the functions behind them.

:func:`register` adds the commands to twin's typer app; ``pyproject.toml`` declares it in the entry-point
group ``twin.commands``, so twin/ never imports the server. Heavy imports (FastAPI, the store) happen when a
command runs, not when ``twin --help`` starts.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from server.settings import Settings

#: The demo scenes ``twin demo`` publishes when given none.
DEMO_SCENES = ("hamburg-eimsbuettel", "nrw-koeln", "bayreuth")

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Server config file (TOML); env TWIN_* wins")]


def serve(settings: Settings) -> None:
    """Run the server with uvicorn (httptools + uvloop when installed), ``settings.workers`` processes.

    With several workers uvicorn imports the app in each process, so the settings travel as TWIN_*
    environment variables to :func:`server.app.app_from_env`.
    """
    import uvicorn

    for key, value in settings.model_dump(mode="json").items():
        if value is not None:
            os.environ[f"TWIN_{key.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    uvicorn.run(
        "server.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=max(1, settings.workers),
        log_level="warning",
        access_log=False,
        loop="auto",
        **_connection_limits(settings),
    )


def _connection_limits(settings: Settings) -> dict[str, Any]:
    """uvicorn options against slow and greedy clients (docs/security.md): deadlines, caps, trusted proxies."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:  # every connection is a file descriptor: take all the system allows us
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return {
        "http": "server.httpserver:GuardedProtocol",  # header deadline, body rate, per-client cap
        "timeout_keep_alive": settings.keep_alive_seconds,
        "limit_concurrency": settings.limit_concurrency or None,
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": settings.trusted_proxies or None,
        "h11_max_incomplete_event_size": 64 * 1024,
    }


def check_database(settings: Settings) -> str:
    """Open (and migrate) the database once, before the server's workers start; returns it for the log.

    An unreachable or malformed ``TWIN_DATABASE_URL`` is :class:`server.errors.StorageUnavailable` naming the
    host and port.
    """
    from server.storage import Database

    return Database(settings.database).connection.dialect.describe()


def token_create(settings: Settings, role: str, scenes: list[str], name: str) -> str:
    """Create a token and return its secret (shown once; only its sha256 is stored)."""
    from server.auth import create_token
    from server.storage import Database

    _, secret = create_token(Database(settings.database), role, scenes, name)
    return secret


def token_list(settings: Settings) -> list[dict[str, Any]]:
    """All tokens: id, name, role, scenes, created, revoked (never the secret)."""
    from server.storage import Database

    return Database(settings.database).tokens.all()


def token_revoke(settings: Settings, token_id: int) -> None:
    """Revoke a token by id (:class:`twin.errors.NotFound` if unknown)."""
    from server.storage import Database

    Database(settings.database).tokens.revoke(token_id)


def publish_folder(settings: Settings, scene: str, folder: Path | str, title: str | None = None) -> str:
    """Import a build folder made by ``twin build`` (a path or ``s3://...``) into the store, publish it; returns its id.

    Registers the scene if needed (manifest ``<scenes_dir>/<scene>/scene.toml`` when it exists).
    """
    from server.storage import Database
    from server.store import SceneStore, check_name

    check_name("scene", scene)
    db = Database(settings.database)
    store = SceneStore.from_settings(settings)
    manifest = Path(settings.scenes_dir) / scene / "scene.toml"
    if not any(s["id"] == scene for s in db.scenes.all()):
        db.scenes.put(scene, title or scene, str(manifest.resolve()) if manifest.is_file() else "")
    build = db.builds.create(scene)
    try:
        store.import_folder(scene, build, str(folder) if "://" in str(folder) else Path(folder))
    except BaseException as exc:
        db.builds.finish(build, "failed", f"import failed: {exc}")
        raise
    db.builds.append_log(build, f"imported from {folder}")
    db.builds.update(build, stage="done", progress=1.0, started=db.builds.get(build)["created"])
    db.builds.finish(build, "succeeded")
    store.publish(scene, build)
    if manifest.is_file():  # recorded sensors pages come with the scene; live ones are the refresher's job
        from twin.errors import TwinError

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
    from server.storage import Database
    from server.store import SceneStore
    from twin.scene import load_scene

    scene = load_scene(scene_path)
    db = Database(settings.database)
    if not any(s["id"] == scene.id for s in db.scenes.all()):
        db.scenes.put(scene.id, scene.title, str(Path(scene_path).resolve()))
    store = SceneStore(settings.data_dir)
    build = store.published(scene.id)
    bounds = scene_bounds(store.build_dir(scene.id, build) / "scene.json") if build else None
    return ingest_scene(db, scene.id, scene.sensors, bounds, live=live)


def register_sensors(app: typer.Typer) -> None:
    """Add ``twin sensors ingest <scene>``: ingest a scene's stations and observations (idempotent)."""
    from twin.cli import fail
    from twin.errors import TwinError

    sensors_app = typer.Typer(help="Traffic sensors of a scene (SensorThings).", no_args_is_help=True)
    app.add_typer(sensors_app, name="sensors")

    @sensors_app.command("ingest")
    def ingest_command(
        scene: Annotated[Path, typer.Argument(help="A scene folder or scene.toml with sensors tables")],
        config: ConfigOpt = None,
        recorded_only: Annotated[bool, typer.Option("--recorded-only", help="Skip live sources")] = False,
    ) -> None:
        """Ingest the scene's sensors sources; prints each source's state as JSON (exit 1 if one failed)."""
        try:
            states = sensors_ingest(_settings(config), scene, live=not recorded_only)
        except TwinError as exc:
            fail(exc)
            return
        sys.stdout.write(json.dumps(states, indent=2, default=str) + "\n")
        if any(s["state"] != "ok" for s in states):
            raise typer.Exit(code=1)


def _settings(config: Path | None, **overrides: object) -> Settings:
    from server.settings import load_settings

    return load_settings(config, **{k: v for k, v in overrides.items() if v is not None})


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``demo`` and ``token create|list|revoke`` to twin's command line (entry point)."""
    from twin.cli import console, fail
    from twin.errors import TwinError

    token_app = typer.Typer(help="Access tokens for planners and admins.", no_args_is_help=True)
    app.add_typer(token_app, name="token")
    register_sensors(app)

    @app.command("serve")
    def serve_command(
        config: ConfigOpt = None,
        host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1)")] = None,
        port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
        workers: Annotated[int | None, typer.Option(help="Server processes")] = None,
        data_dir: Annotated[Path | None, typer.Option(help="Data directory (SQLite + tiles)")] = None,
    ) -> None:
        """Serve published scenes, the viewer (/) and the planner page (/planner)."""
        settings = _settings(config, host=host, port=port, workers=workers, data_dir=data_dir)
        try:
            database = check_database(settings)
        except TwinError as exc:  # an unreachable or wrong TWIN_DATABASE_URL: one clear line, no traceback
            fail(exc)
            return
        console.print(f"serving {settings.data_dir} ({database}) at http://{settings.host}:{settings.port}/")
        serve(settings)

    @app.command("demo")
    def demo_command(
        config: ConfigOpt = None,
        port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
        scenes: Annotated[list[str] | None, typer.Option("--scene", help="Scene folders to publish")] = None,
        no_serve: Annotated[bool, typer.Option("--no-serve", help="Build and publish only")] = False,
    ) -> None:
        """Build and publish the demo scenes (incrementally), then serve them."""
        from twin.build import build_scene
        from twin.scene import load_scene

        settings = _settings(config, port=port)
        repo = Path(__file__).resolve().parent.parent
        folders = [Path(s) for s in scenes] if scenes else [repo / "scenes" / name for name in DEMO_SCENES]
        for folder in folders:
            try:
                scene = load_scene(folder)
                work = Path(settings.data_dir) / "work" / scene.id
                prev = work if (work / ".cache").exists() else None
                with console.status(f"building {scene.id}"):
                    result = build_scene(scene, work, previous=prev)
                build_id = publish_folder(settings, scene.id, work, scene.title)
            except TwinError as exc:
                fail(exc)
                return
            console.print(f"[bold]{scene.id}[/]: {result.report.summary()}")
            console.print(f"published build {build_id} with {len(result.scene_info['variants'])} variants")
        if not no_serve:
            console.print(
                f"viewer: http://{settings.host}:{settings.port}/   planner: http://{settings.host}:{settings.port}/planner"
            )
            serve(settings)

    @token_app.command("create")
    def token_create_command(
        role: Annotated[str, typer.Argument(help="planner or admin")],
        name: Annotated[str, typer.Option(help="Who the token is for")] = "",
        scene: Annotated[list[str] | None, typer.Option(help="Scenes a planner may work in (repeat)")] = None,
        config: ConfigOpt = None,
    ) -> None:
        """Create a token; its secret is printed once (only a hash is stored)."""
        try:
            sys.stdout.write(token_create(_settings(config), role, scene or [], name) + "\n")
        except TwinError as exc:
            fail(exc)

    @token_app.command("list")
    def token_list_command(config: ConfigOpt = None) -> None:
        """List tokens (never their secrets)."""
        try:
            sys.stdout.write(json.dumps(token_list(_settings(config)), indent=2, default=str) + "\n")
        except TwinError as exc:
            fail(exc)

    @token_app.command("revoke")
    def token_revoke_command(token_id: Annotated[int, typer.Argument()], config: ConfigOpt = None) -> None:
        """Revoke a token by id."""
        try:
            token_revoke(_settings(config), token_id)
        except TwinError as exc:
            fail(exc)
