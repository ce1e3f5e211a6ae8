"""Browser test fixtures: a static server for viewer/dist plus tileset fixtures, and headless Chromium.

Everything is served from one origin by a tiny threaded ``http.server``:
``/`` is viewer/dist, ``/fixtures/`` is tests/fixtures/tilesets, ``/demo/`` is a twin-style scene
written by ``twin_tileset.write_scene`` into a temporary folder. The viewer is built with
``npm run build`` when viewer/dist is missing or older than viewer/src.

``real_scene`` is the builder's real output (Draco-compressed, with a design variant)
published into the scene server and served by it (``real_scene.py``).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from real_scene import RealScene, build_and_serve
from twin_tileset import write_scene

ROOT = Path(__file__).resolve().parents[2]
VIEWER = ROOT / "viewer"
DIST = VIEWER / "dist"
FIXTURES = ROOT / "tests" / "fixtures" / "tilesets"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]


def _newest(folder: Path) -> float:
    return max((p.stat().st_mtime for p in folder.rglob("*") if p.is_file()), default=0.0)


def _build_viewer() -> None:
    """Build viewer/dist when it is missing or stale (the tests exercise the production bundle)."""
    sources = max(_newest(VIEWER / "src"), (VIEWER / "index.html").stat().st_mtime)
    if (DIST / "index.html").exists() and _newest(DIST) >= sources:
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: cannot build the viewer")
    if not (VIEWER / "node_modules").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=VIEWER, check=True)
    subprocess.run([npm, "run", "build"], cwd=VIEWER, check=True, capture_output=True)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Maps URL prefixes to folders; quiet, and no caching so rebuilt bundles are picked up."""

    mounts: ClassVar[dict[str, Path]] = {}

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0].split("#", 1)[0]
        for prefix, folder in self.mounts.items():
            if clean.startswith(prefix):
                rel = clean[len(prefix) :].lstrip("/")
                target = (folder / rel).resolve()
                # Stay inside the mounted folder whatever the URL says.
                if folder.resolve() in target.parents or target == folder.resolve():
                    return str(target)
                return str(folder / "__outside__")
        return super().translate_path(path)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the static server (viewer + fixtures + demo scene)."""
    _build_viewer()
    demo = tmp_path_factory.mktemp("demo")
    write_scene(demo)
    handler = functools.partial(_Handler, directory=str(DIST))
    _Handler.mounts = {"/fixtures/": FIXTURES, "/demo/": demo}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def real_scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealScene]:
    """A small real scene built by twin, published and served by the scene server (viewer at ``/``)."""
    _build_viewer()
    with build_and_serve(tmp_path_factory.mktemp("real")) as scene:
        yield scene


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the whole session (starting it costs about a second)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh page (800 x 600, English) that fails the test on uncaught page errors."""
    context = browser.new_context(viewport={"width": 800, "height": 600}, locale="en-GB")  # type: ignore[attr-defined]
    p = context.new_page()
    p.errors = []
    p.on("pageerror", lambda e: p.errors.append(str(e)))
    yield p
    context.close()
