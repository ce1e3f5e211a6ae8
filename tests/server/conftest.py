"""Fixtures for the server tests: a fresh app over tmp_path with a published hand-made scene and tokens."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))

from buildfolder import make_build
from pg import postgres_server, postgres_url  # noqa: F401 - fixtures: one PostgreSQL per run, a database per test

from server import cli
from server.app import create_app
from server.settings import Settings
from server.storage import Connection

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


#: The databases a test module runs against when it sets ``DATABASES = BOTH`` (others: SQLite only).
BOTH = ("sqlite", "postgres")
#: For modules whose tests mostly exercise something else (the sandbox, the build worker, visits): their
#: PostgreSQL variants run with ``TWIN_TEST_POSTGRES=all`` (``make test-postgres``); tests marked
#: :func:`both_databases` run on both always. Keeps the default run's PostgreSQL time small.
BOTH_IN_FULL_RUN = ("sqlite", "postgres", "full-run-only")

F = TypeVar("F", bound=Callable[..., Any])


def both_databases(test: F) -> F:
    """Run this test on SQLite and PostgreSQL in every run (in a module with ``DATABASES = BOTH_IN_FULL_RUN``)."""
    test.DATABASES = BOTH  # type: ignore[attr-defined]
    return test


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the tests of a module with ``DATABASES = BOTH`` once per database (ids ``[sqlite]``, ``[postgres]``)."""
    if "database" in metafunc.fixturenames:
        databases = getattr(metafunc.function, "DATABASES", getattr(metafunc.module, "DATABASES", None))
        if databases == BOTH_IN_FULL_RUN:
            databases = BOTH if os.environ.get("TWIN_TEST_POSTGRES") == "all" else None
        if databases:
            metafunc.parametrize("database", databases, indirect=True)


@pytest.fixture
def database(request: pytest.FixtureRequest) -> str | None:
    """The ``database_url`` of a test: None (SQLite under data_dir) or a fresh PostgreSQL database."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return None
    return str(request.getfixturevalue("postgres_url"))


def tables(con: Connection) -> set[str]:
    """The names of the tables of a database."""
    if con.kind == "sqlite":
        return {r["name"] for r in con.all("SELECT name FROM sqlite_master WHERE type='table'")}
    return {r["name"] for r in con.all("SELECT tablename AS name FROM pg_tables WHERE schemaname='public'")}


@pytest.fixture
def env(tmp_path: Path, database: str | None) -> Env:
    settings = make_settings(tmp_path, database_url=database)
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
