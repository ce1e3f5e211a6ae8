"""Page helpers shared by the browser tests (JavaScript run through Playwright)."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from PIL import Image

#: True once every visible tileset has its root, nothing is pending, and a frame drew triangles.
READY_JS = """(minModels) => {
  const t = window.__twin;
  if (!t) return false;
  const info = t.tilesInfo();
  return info.length > 0 && info.every((x) => x.rootLoaded && x.loadProgress === 1 && x.models >= minModels)
    && t.state.lastFrame.triangles > 0;
}"""

#: Screen pixel of a world-local point (x, y, z) with the desktop camera.
PROJECT_JS = """([x, y, z]) => {
  const t = window.__twin;
  const p = t.world.localToWorld(t.camera.position.clone().set(x, y, z)).project(t.camera);
  const r = t.renderer.domElement.getBoundingClientRect();
  return [r.left + (p.x + 1) / 2 * r.width, r.top + (1 - p.y) / 2 * r.height];
}"""


#: Orbit the desktop camera around a world-local point from an offset (metres, world axes).
LOOK_JS = """([at, offset]) => {
  const t = window.__twin;
  const target = t.world.localToWorld(t.camera.position.clone().set(...at));
  t.nav.map.target.copy(target);
  t.camera.position.copy(target).add(t.camera.position.clone().set(...offset));
  t.nav.map.update();
}"""


def look_at(page: Any, at: list[float], offset: tuple[float, float, float], min_models: int = 1) -> None:
    """Point the desktop camera at ``at`` (world-local) from ``offset`` and wait for the tiles it needs."""
    page.evaluate(LOOK_JS, [at, list(offset)])
    wait_ready(page, min_models=min_models)


def wait_ready(page: Any, min_models: int = 1, timeout: float = 60_000) -> None:
    """Wait until the viewer drew the loaded tiles, then two more frames for the screenshot."""
    page.wait_for_function(READY_JS, arg=min_models, timeout=timeout)
    frames = page.evaluate("window.__twin.state.frames")
    page.wait_for_function(f"window.__twin.state.frames > {frames + 2}", timeout=timeout)


def enu_world(east: float, north: float, up: float) -> list[float]:
    """ENU metres from the scene origin to viewer world axes (+X west, +Y up, +Z north)."""
    return [-east, up, north]


def screenshot_stats(page: Any) -> tuple[int, float]:
    """Number of distinct colours and the grey-level standard deviation of a page screenshot."""
    img = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB"))
    colours = len(np.unique(img.reshape(-1, 3), axis=0))
    return colours, float(img.mean(axis=2).std())


def canvas_pixels(page: Any) -> np.ndarray:
    """The canvas as an (h, w, 3) uint8 array."""
    png = page.locator("canvas").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@contextlib.contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port in a thread; yields the base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the scene server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
