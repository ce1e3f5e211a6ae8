"""A scene server with one registered, never built scene and a planner token, for the planner page tests.

The scene is the OSM fixture ``osm/hamburg_eimsbuettel_cut.geojson`` (153 buildings plus the Hamburg-Haus),
copied into ``<tmp>/scenes/eimsbuettel-plan/`` next to its ``scene.toml``; ``create_app`` registers it from
there. The server runs the real builder (``twin.build:build_scene``) in its worker, so the page follows a
real build. Nothing is published: the planner page has to do that.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers import serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
OSM = ROOT / "tests" / "fixtures" / "osm" / "hamburg_eimsbuettel_cut.geojson"
HOUSE = ROOT / "tests" / "fixtures" / "designs" / "pmndrs_house-5.glb"
SCENE_ID = "eimsbuettel-plan"
#: A free yard among the buildings of the cut (the house keeps 5 m from every footprint), lon/lat degrees.
PLOT = (9.9459, 53.5794)

MANIFEST = """\
id = "{id}"
title = "Eimsbüttel (planner test)"
crs = "EPSG:25832"
z0_height = 51.5
attribution = ["© OpenStreetMap contributors"]
licenses = ["ODbL-1.0"]

[defaults]
height = 9.0

[[sources]]
name = "osm"
path = "footprints.geojson"
format = "osm-geojson"
"""


@dataclass(frozen=True)
class PlannerServer:
    """A running server: its base URL, a planner token for :data:`SCENE_ID`, and its data folder."""

    base: str
    token: str
    data_dir: Path

    def get_json(self, path: str, token: str | None = None) -> tuple[int, Any]:
        """Status and decoded body of a GET (problem documents too), optionally with a bearer token."""
        req = urllib.request.Request(self.base + path)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")


def write_scene(scenes_dir: Path) -> Path:
    """``<scenes_dir>/<SCENE_ID>/scene.toml`` with a copy of the OSM cut beside it; returns the manifest."""
    folder = scenes_dir / SCENE_ID
    folder.mkdir(parents=True)
    shutil.copy(OSM, folder / "footprints.geojson")
    manifest = folder / "scene.toml"
    manifest.write_text(MANIFEST.format(id=SCENE_ID), encoding="utf-8")
    return manifest


@contextlib.contextmanager
def planner_server(tmp: Path) -> Iterator[PlannerServer]:
    """Serve a fresh data dir over ``tmp`` with uvicorn in a thread (real builder, one build job)."""
    from server.app import create_app
    from server.cli import token_create
    from server.settings import Settings

    write_scene(tmp / "scenes")
    settings = Settings(
        data_dir=tmp / "data",
        scenes_dir=tmp / "scenes",
        viewer_dir=tmp / "no-viewer",
        builder="twin.build:build_scene",
        build_jobs=1,
    )
    app = create_app(settings)
    token = token_create(settings, "planner", [SCENE_ID], "planner-page-test")
    with serve_in_thread(app) as base:
        yield PlannerServer(base, token, settings.data_dir)
