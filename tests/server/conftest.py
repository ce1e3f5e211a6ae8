"""Fixtures for the server tests: a fresh app over tmp_path with a published hand-made scene and tokens."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))

from buildfolder import make_build

from server import cli
from server.app import create_app
from server.settings import Settings

HERE = Path(__file__).parent
FOOTPRINTS = HERE.parent / "fixtures" / "osm" / "hamburg_footprints_25832.geojson"
MANIFEST = """id = "demo"
title = "Demo"
crs = "EPSG:25832"
attribution = ["© OpenStreetMap contributors"]
licenses = ["ODbL-1.0"]

[[sources]]
name = "osm"
path = "footprints.geojson"
"""


@dataclass
class Env:
    """One test server: client, settings, tokens and the published build of scene ``demo``."""

    client: TestClient
    settings: Settings
    admin: dict[str, str]
    planner: dict[str, str]
    other: dict[str, str]
    published: str
    build: dict[str, Any]
    tmp: Path


def make_settings(tmp: Path, **kw: Any) -> Settings:
    """Settings over ``tmp`` with a scene ``demo`` manifest and the fake builder."""
    scenes = tmp / "scenes"
    (scenes / "demo").mkdir(parents=True, exist_ok=True)
    (scenes / "demo" / "scene.toml").write_text(MANIFEST, encoding="utf-8")
    shutil.copy(FOOTPRINTS, scenes / "demo" / "footprints.geojson")
    values: dict[str, Any] = {
        "data_dir": tmp / "data",
        "scenes_dir": scenes,
        "viewer_dir": tmp / "no-viewer",
        "builder": f"{HERE / 'fakebuild.py'}:build_scene",
        "allowed_hosts": ["testserver", "localhost", "127.0.0.1"],  # TestClient's Host builds links
    }
    values.update(kw)
    return Settings(**values)


@pytest.fixture
def env(tmp_path: Path) -> Env:
    settings = make_settings(tmp_path)
    client = TestClient(create_app(settings))
    folder = tmp_path / "built"
    build = make_build(folder, "v1")
    published = cli.publish_folder(settings, "demo", folder)
    bearer = lambda t: {"Authorization": f"Bearer {t}"}  # noqa: E731
    return Env(
        client=client,
        settings=settings,
        admin=bearer(cli.token_create(settings, "admin", [], "root")),
        planner=bearer(cli.token_create(settings, "planner", ["demo"], "alice")),
        other=bearer(cli.token_create(settings, "planner", ["elsewhere"], "bob")),
        published=published,
        build=build,
        tmp=tmp_path,
    )
