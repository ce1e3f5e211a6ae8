"""The application: ``create_app(settings)`` wires settings, database, store, routers and the tile path.

Requests under ``/tiles/`` and ``/preview/`` go straight to :class:`server.tiles.TileServer` in
:meth:`TwinApp.__call__`, before FastAPI's middleware and routing: that is most of the traffic, and it needs
none of them. Everything else is ordinary FastAPI.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from server import errors
from server.deps import Context
from server.guard import Guard
from server.objectstore import make_tile_server
from server.routes import admin, ogc, participation, planner, public, sensors, tiles, visits
from server.settings import Settings, load_settings
from server.storage import Database
from server.store import NAME_RE, SceneStore
from server.tiles import Receive, Scope, Send, TileServer

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
_NO_VIEWER = """<!doctype html><meta charset="utf-8"><title>Urban twin</title>
<p>The viewer is not built (run <code>npm run build</code> in <code>viewer/</code>).
<p><a href="/api/scenes">Published scenes</a> · <a href="/planner/">Planner</a> · <a href="/docs">API</a>"""


class TwinApp(FastAPI):
    """FastAPI with the tile server in front of it."""

    tile_server: TileServer
    guard: Guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith(("/tiles/", "/preview/")):
                await self.tile_server(scope, receive, send)
                return
            await self.guard(scope, receive, send, super().__call__)
            return
        await super().__call__(scope, receive, send)


def sync_scenes(db: Database, scenes_dir: Path) -> int:
    """Register every ``<scenes_dir>/<name>/scene.toml`` not yet in the database; returns how many."""
    known = {s["id"] for s in db.scenes.all()}
    n = 0
    for manifest in sorted(Path(scenes_dir).glob("*/scene.toml")):
        name = manifest.parent.name
        if name in known or not NAME_RE.match(name):
            continue
        try:
            data = tomllib.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("skipping scene %s: %s", manifest, exc)
            continue
        title = data.get("title") or (data.get("scene") or {}).get("title") or name
        db.scenes.put(name, str(title), str(manifest.resolve()))
        n += 1
    return n


def create_app(settings: Settings | None = None) -> FastAPI:
    """A fresh application over ``settings.data_dir`` (created if missing)."""
    settings = settings or load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database)
    store = SceneStore.from_settings(settings)
    sync_scenes(db, settings.scenes_dir)
    app = TwinApp(
        title="Urban twin scene server",
        version="0.1.0",
        description="Published city scenes as 3D Tiles 1.1, open data (GeoJSON, OGC API 3D GeoVolumes), "
        "and planner tools (uploads, variants, builds, publishing). Errors are application/problem+json.",
    )
    app.state.ctx = Context(settings, db, store)
    app.state.db = db
    app.tile_server = make_tile_server(settings, store)
    app.guard = Guard(settings, db)
    errors.install(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["ETag", "Content-Range"],
    )
    # participation's OGC router goes before ogc's: /ogc/collections/{scene}.contributions is its collection.
    routers = (public.router, tiles.router, participation.ogc_router, ogc.router, participation.router)
    for router in (*routers, planner.router, admin.router, visits.router, sensors.router):
        app.include_router(router)
    _static(app, settings)
    return app


def _static(app: FastAPI, settings: Settings) -> None:
    """The planner page at /planner/ and the built viewer at / (the viewer last: it catches the rest)."""
    app.mount("/planner/", StaticFiles(directory=STATIC / "planner", html=True), name="planner")
    app.mount("/moderate/", StaticFiles(directory=STATIC / "moderate", html=True), name="moderate")

    @app.get("/planner", include_in_schema=False)
    def planner_page() -> RedirectResponse:
        return RedirectResponse("/planner/")

    viewer = Path(settings.viewer_dir)
    if not (viewer / "index.html").is_file() and (STATIC / "viewer" / "index.html").is_file():
        viewer = STATIC / "viewer"  # a pip-installed server: the wheel ships the built viewer (setup.py)
    if (viewer / "index.html").is_file():
        app.mount("/", StaticFiles(directory=viewer, html=True), name="viewer")
    else:

        @app.get("/", include_in_schema=False, response_class=HTMLResponse)
        def no_viewer() -> str:
            return _NO_VIEWER


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory server.app:app_from_env`` (settings from TWIN_* and TWIN_CONFIG)."""
    return create_app(load_settings())
