"""The ``twin`` command: build scenes and validate output; other packages add command groups.

Commands beyond ``build`` and ``validate`` come from the entry-point group ``twin.commands``: each entry
point names a function ``register(app: typer.Typer) -> None`` that adds its commands. The scene server
declares ``server = "server.cli:register"`` (``twin serve``, ``twin demo``, ``twin token ...``), so the library
never imports the server.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from .errors import TwinError

app = typer.Typer(
    help="Urban digital twin: build 3D Tiles from city data and designs, and serve them.", no_args_is_help=True
)
console = Console(stderr=True)
#: The entry-point group of command groups added to ``twin`` (see the module docstring).
COMMANDS_GROUP = "twin.commands"


def fail(exc: Exception) -> None:
    """Print an error the way every ``twin`` command does and exit with status 2."""
    console.print(f"[bold red]error:[/] {exc}")
    raise typer.Exit(code=2)


@app.command()
def build(
    source: Annotated[
        Path, typer.Argument(help="A scene folder / scene.toml, or a data file (.osm, .pbf, .geojson, .gpkg, .gml)")
    ],
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="Output folder or s3://bucket/prefix (default: out/<scene id>)")
    ] = None,
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
    scheduler: Annotated[
        str | None,
        typer.Option(help="Run as Dask tasks: 'local' (a cluster of --workers processes) or tcp://host:8786"),
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Dask workers of --scheduler local (default: all cores)")] = None,
) -> None:
    """Build a scene into a 3D Tiles 1.1 folder (tileset.json, blobs/, variants/, scene.json, report.json)."""
    import tempfile
    from dataclasses import replace

    from .build import build_scene
    from .scene import is_manifest, load_scene, scene_for_file
    from .storage import is_url, open_url, upload_folder

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
        # An object store target: build into a local staging folder, then upload it (blobs first, scene.json last).
        staging = tempfile.TemporaryDirectory(prefix="twin-build-") if out and is_url(out) else None
        target = Path(staging.name) if staging else Path(out) if out else Path("out") / scene.id
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

            result = build_scene(
                scene,
                target,
                jobs=jobs,
                progress=progress,
                previous=prev,
                incremental=not no_cache,
                scheduler=scheduler,
                workers=workers,
            )
        if staging and out:
            storage, prefix = open_url(out)
            upload_folder(target, storage, prefix)
            staging.cleanup()
    except TwinError as exc:
        fail(exc)
        return
    if report_json:
        sys.stdout.write(result.report.to_json() + "\n")
    console.print(result.report.summary())
    where = f"{out.rstrip('/')}/tileset.json" if staging and out else target / "tileset.json"
    console.print(f"wrote {where} ({len(result.scene_info['variants'])} variants)")


@app.command()
def validate(folder: Annotated[Path, typer.Argument(help="A build folder (or a tileset.json)")]) -> None:
    """Check tileset.json files against the 3D Tiles schemas and every glb's metadata extensions."""
    from .validate import validate_glb_extensions, validate_tileset_json

    root = folder.parent if folder.is_file() else folder
    tilesets = [folder] if folder.is_file() else sorted(root.rglob("tileset.json"))
    if not tilesets:
        fail(FileNotFoundError(f"no tileset.json under {folder}"))
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


def load_commands(target: typer.Typer, group: str = COMMANDS_GROUP) -> list[str]:
    """Let every installed ``group`` entry point register its commands on ``target``; returns their names.

    A plugin that cannot be imported (its package's dependencies missing) is reported and left out:
    ``twin build`` must work without the server installed.
    """
    loaded = []
    for ep in entry_points(group=group):
        try:
            register = ep.load()
        except ImportError as exc:
            console.print(f"[dim]twin: commands {ep.name!r} not available ({exc})[/]")
            continue
        register(target)
        loaded.append(ep.name)
    return loaded


load_commands(app)


def main() -> None:
    """Entry point for ``python -m twin``."""
    app()
