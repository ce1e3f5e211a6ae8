"""The ``twin`` command: build scenes, validate output, serve, manage tokens."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from .errors import TwinError

app = typer.Typer(
    help="Urban digital twin: build 3D Tiles from city data and designs, and serve them.", no_args_is_help=True
)
token_app = typer.Typer(help="Access tokens for planners and admins.", no_args_is_help=True)
app.add_typer(token_app, name="token")
console = Console(stderr=True)


def _fail(exc: Exception) -> None:
    console.print(f"[bold red]error:[/] {exc}")
    raise typer.Exit(code=2)


@app.command()
def build(
    source: Annotated[
        Path, typer.Argument(help="A scene folder / scene.toml, or a data file (.osm, .pbf, .geojson, .gpkg, .gml)")
    ],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: out/<scene id>)")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Worker processes (default: all cores)")] = None,
    previous: Annotated[
        Path | None, typer.Option(help="An earlier build of the same scene to reuse (default: --out if it has one)")
    ] = None,
    crs: Annotated[str | None, typer.Option(help="Working CRS for a data file (default: its UTM zone)")] = None,
    default_height: Annotated[float | None, typer.Option(help="Height where the data has none (m)")] = None,
    report_json: Annotated[bool, typer.Option("--json", help="Print the build report as JSON on stdout")] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Keep no .cache/ for incremental rebuilds (saves disk on huge scenes)")
    ] = False,
) -> None:
    """Build a scene into a 3D Tiles 1.1 folder (tileset.json, blobs/, variants/, scene.json, report.json)."""
    from dataclasses import replace

    from .build import build_scene
    from .scene import is_manifest, load_scene, scene_for_file

    try:
        scene = load_scene(source) if is_manifest(source) else scene_for_file(source)
        if crs:
            scene = replace(scene, crs=crs)
        if default_height is not None:
            scene = replace(
                scene,
                sources=tuple(
                    replace(s, options=replace(s.options, default_height=default_height)) for s in scene.sources
                ),
            )
        target = out or Path("out") / scene.id
        prev = previous or (target if (target / ".cache").exists() else None)
        with Progress(
            TextColumn("{task.description:<9}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("read", total=1.0)

            def progress(stage: str, fraction: float) -> None:
                bar.update(task, description=stage, completed=fraction)

            result = build_scene(scene, target, jobs=jobs, progress=progress, previous=prev, incremental=not no_cache)
    except TwinError as exc:
        _fail(exc)
        return
    if report_json:
        sys.stdout.write(result.report.to_json() + "\n")
    console.print(result.report.summary())
    console.print(f"wrote {target / 'tileset.json'} ({len(result.scene_info['variants'])} variants)")


@app.command()
def validate(folder: Annotated[Path, typer.Argument(help="A build folder (or a tileset.json)")]) -> None:
    """Check tileset.json files against the 3D Tiles schemas and every glb's metadata extensions."""
    from .validate import validate_glb_extensions, validate_tileset_json

    root = folder.parent if folder.is_file() else folder
    tilesets = [folder] if folder.is_file() else sorted(root.rglob("tileset.json"))
    if not tilesets:
        _fail(FileNotFoundError(f"no tileset.json under {folder}"))
    errors = 0
    for ts in tilesets:
        for msg in validate_tileset_json(json.loads(ts.read_text())):
            console.print(f"{ts}: {msg}")
            errors += 1
    glbs = sorted(root.rglob("*.glb"))
    for glb in glbs:
        for msg in validate_glb_extensions(glb.read_bytes()):
            console.print(f"{glb}: {msg}")
            errors += 1
    console.print(f"{len(tilesets)} tilesets, {len(glbs)} glb files, {errors} errors")
    if errors:
        raise typer.Exit(code=1)


def _settings(config: Path | None, **overrides: object) -> Any:
    from server.settings import load_settings

    return load_settings(config, **{k: v for k, v in overrides.items() if v is not None})


ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Server config file (TOML); env TWIN_* wins")]


@app.command()
def serve(
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
    workers: Annotated[int | None, typer.Option(help="Server processes")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Data directory (SQLite + tiles)")] = None,
) -> None:
    """Serve published scenes, the viewer (/) and the planner page (/planner)."""
    from server.cli import serve as run

    settings = _settings(config, host=host, port=port, workers=workers, data_dir=data_dir)
    console.print(f"serving {settings.data_dir} at http://{settings.host}:{settings.port}/")
    run(settings)


@app.command()
def demo(
    config: ConfigOpt = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
    scenes: Annotated[list[str] | None, typer.Option("--scene", help="Scene folders to publish")] = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build and publish only")] = False,
) -> None:
    """Build and publish the demo scenes (incrementally), then serve them."""
    from server.cli import publish_folder
    from server.cli import serve as run

    from .build import build_scene
    from .scene import load_scene

    settings = _settings(config, port=port)
    repo = Path(__file__).resolve().parent.parent
    folders = (
        [Path(s) for s in scenes]
        if scenes
        else [repo / "scenes" / name for name in ("hamburg-eimsbuettel", "nrw-koeln", "bayreuth")]
    )
    for folder in folders:
        try:
            scene = load_scene(folder)
            work = Path(settings.data_dir) / "work" / scene.id
            prev = work if (work / ".cache").exists() else None
            with console.status(f"building {scene.id}"):
                result = build_scene(scene, work, previous=prev)
            build_id = publish_folder(settings, scene.id, work, scene.title)
        except TwinError as exc:
            _fail(exc)
            return
        console.print(f"[bold]{scene.id}[/]: {result.report.summary()}")
        console.print(f"published build {build_id} with {len(result.scene_info['variants'])} variants")
    if not no_serve:
        console.print(
            f"viewer: http://{settings.host}:{settings.port}/   planner: http://{settings.host}:{settings.port}/planner"
        )
        run(settings)


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Argument(help="planner or admin")],
    name: Annotated[str, typer.Option(help="Who the token is for")] = "",
    scene: Annotated[list[str] | None, typer.Option(help="Scenes a planner may work in (repeat)")] = None,
    config: ConfigOpt = None,
) -> None:
    """Create a token; its secret is printed once (only a hash is stored)."""
    from server.cli import token_create as create

    try:
        sys.stdout.write(create(_settings(config), role, scene or [], name) + "\n")
    except TwinError as exc:
        _fail(exc)


@token_app.command("list")
def token_list(config: ConfigOpt = None) -> None:
    """List tokens (never their secrets)."""
    from server.cli import token_list as listing

    sys.stdout.write(json.dumps(listing(_settings(config)), indent=2, default=str) + "\n")


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument()], config: ConfigOpt = None) -> None:
    """Revoke a token by id."""
    from server.cli import token_revoke as revoke

    try:
        revoke(_settings(config), token_id)
    except TwinError as exc:
        _fail(exc)


def main() -> None:
    """Entry point for ``python -m twin``."""
    app()
