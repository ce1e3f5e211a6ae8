"""Draw calls and triangles per eye of the viewer in the demo scene: desktop, VR table-top and VR street level.

Starts ``twin serve`` on a published data directory (building and publishing the Hamburg demo scene into a
temporary one when none is given), opens the viewer in headless Chromium with IWER's emulated Meta Quest 3
(../shared/TESTING.md), and reads ``renderer.info`` of settled frames (every visible tile loaded):

- desktop: the start view (the whole district framed) and walk mode at eye height in the centre;
- VR table-top: the miniature on the table right after "Enter VR";
- VR street level: 1:1 at several spots (the centre, the four quadrants, the FZK-Haus site with its variant
  shown), looking north, east, south and west at each.

Per eye = (all draw calls − the shadow pass) / views: three.js draws each object once per eye of the XR
camera, the sun's shadow map once per frame (reported apart). The issue's budget: ≤ 100 draw calls and
≤ 750k triangles per eye.

    .venv/bin/python bench/viewer_budget.py [--data-dir DIR] [--scene hamburg-eimsbuettel] [--out FILE]

``--all-layers`` turns every layer of the scene on (buildings, terrain, roads, areas, trees, and the sensor
stations where the server has some) and waits for each to settle before a view is read; each row then says
what each layer had loaded. ``--street-shot FILE`` keeps the desktop street-level (walk mode) view as a small
PNG (downscaled, 256 colours). Bayreuth and other scenes are measured from a ``--data-dir`` they are
published in (``TWIN_DATA_DIR=DIR twin demo --no-serve --scene scenes/bayreuth``).

    .venv/bin/python bench/viewer_budget.py --all-layers --street-shot bench/results/street_level.png

Prints a JSON table; exits 1 when a view is over budget. Needs Debian's chromium and Python playwright.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TWIN = ROOT / ".venv" / "bin" / "twin"
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
BUDGET = {"calls_per_eye": 100, "triangles_per_eye": 750_000}
DATE = "2024-06-21T14:00:00Z"
#: Street-level spots, ENU metres from the scene origin (the leaf tiles of the demo are ~360 m squares).
SPOTS = {"centre": (0.0, 0.0), "north-east": (300.0, 300.0), "north-west": (-300.0, 300.0),
         "south-west": (-300.0, -300.0), "south-east": (300.0, -300.0)}  # fmt: skip

#: Settled: every visible tileset has its root, nothing pending, and a frame drew triangles; with ``all``
#: the terrain and every context layer too (trees may have no tile within reach), and the sensor stations
#: placed when ``stations`` are expected.
READY_JS = """([all, stations]) => {
  const t = window.__twin;
  if (!t) return false;
  const info = t.tilesInfo();
  const settled = (x) => !x || (x.rootLoaded && x.loadProgress === 1);
  const ok = info.length > 0 && info.every((x) => settled(x) && x.models > 0) && t.state.lastFrame.triangles > 0;
  if (!ok || !all) return ok;
  const context = Object.values(t.host.get('context')?.info() ?? {});
  const sensors = t.host.get('sensors')?.markers.stations.length ?? 0;
  return settled(t.host.get('terrain')?.info()) && context.every(settled) && (!stations || sensors > 0);
}"""

#: Turn every context layer on (the toggles' state); returns the ids the scene has.
ALL_LAYERS_JS = """() => {
  const context = window.__twin.host.get('context');
  const ids = [...(context?.tiles.keys() ?? [])];
  for (const id of ids) context.setVisible(id, true);
  return ids;
}"""

#: What each layer has loaded (tile models; sensor stations placed).
LAYERS_JS = """() => {
  const t = window.__twin;
  const out = {buildings: t.tilesInfo().reduce((a, x) => a + x.models, 0)};
  const terrain = t.host.get('terrain')?.info();
  if (terrain) out.terrain = terrain.models;
  for (const [id, x] of Object.entries(t.host.get('context')?.info() ?? {})) out[id] = x.visible ? x.models : 0;
  const stations = t.host.get('sensors')?.markers.stations.length ?? 0;
  if (stations) out.sensors = stations;
  return out;
}"""

#: Pitch the emulated headset (radians, negative looks down), level and facing -Z otherwise.
HEAD_PITCH_JS = "(a) => window.__twin.xrDevice.quaternion.set(Math.sin(a / 2), 0, 0, Math.cos(a / 2))"

FRAME_JS = """() => {
  const f = window.__twin.state.lastFrame;
  const eye = (n, shadow) => (n - shadow) / f.views;
  return {views: f.views, calls: f.calls, triangles: f.triangles,
          shadow_calls: f.shadowCalls, shadow_triangles: f.shadowTriangles,
          calls_per_eye: eye(f.calls, f.shadowCalls), triangles_per_eye: eye(f.triangles, f.shadowTriangles),
          tiles_loaded: window.__twin.tilesInfo().reduce((a, x) => a + x.models, 0)};
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _published(data_dir: Path, scene: str) -> bool:
    return (data_dir / "scenes" / scene / "published.json").is_file()


def _publish_demo(data_dir: Path) -> None:
    """Build and publish the Hamburg demo scene into ``data_dir`` (what ``twin demo --no-serve`` does)."""
    env = {**os.environ, "TWIN_DATA_DIR": str(data_dir)}
    cmd = [str(TWIN), "demo", "--no-serve", "--scene", str(ROOT / "scenes" / "hamburg-eimsbuettel")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")


def _build_viewer() -> None:
    if not (ROOT / "viewer" / "dist" / "index.html").is_file():
        npm = shutil.which("npm") or "npm"
        subprocess.run([npm, "run", "build", "--prefix", str(ROOT / "viewer")], check=True, stdout=subprocess.DEVNULL)


@contextlib.contextmanager
def serve(data_dir: Path) -> Iterator[str]:
    """``twin serve`` on a free port; yields the base URL."""
    port = _free_port()
    cmd = [str(TWIN), "serve", "--port", str(port), "--data-dir", str(data_dir)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(base + "/api/scenes", timeout=1).read()
                break
            if proc.poll() is not None:
                raise RuntimeError(f"twin serve exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def _has_stations(base: str, scene: str) -> bool:
    """Whether the server has sensor stations for the scene (the viewer then places them)."""
    try:
        with urllib.request.urlopen(f"{base}/api/scenes/{scene}/sensors/items?limit=1", timeout=10) as r:
            return bool(json.load(r).get("features"))
    except (OSError, ValueError):
        return False


def enu_of(lon: float, lat: float, origin: dict[str, float]) -> tuple[float, float]:
    """East and north metres of a WGS 84 point from the scene origin (on the origin's ellipsoid height)."""
    from twin.crs import enu_to_ecef_matrix, geodetic_to_ecef

    m = enu_to_ecef_matrix(origin["lon"], origin["lat"], origin["height"])
    p = geodetic_to_ecef(np.array([lon]), np.array([lat]), np.array([origin["height"]]))[0]
    enu = np.linalg.solve(m, np.append(p, 1.0))
    return float(enu[0]), float(enu[1])


def _spread(scene: dict[str, Any]) -> float:
    """How far apart the street spots go: the demo's 300 m, or a quarter of a bigger scene's extent.

    A city's quadrant spots then stand in its quadrants, not all in its central square kilometre.
    """
    west, south, east, north = scene["bounds"]
    x0, y0 = enu_of(west, south, scene["origin"])
    x1, y1 = enu_of(east, north, scene["origin"])
    return max(1.0, min(x1 - x0, y1 - y0) / 4.0 / 300.0)


@dataclass(frozen=True)
class Layers:
    """Which layers a run turns on: ``all`` (every layer of the scene), ``stations`` (sensors to wait for)."""

    all: bool = False
    stations: bool = False


def _settle(page: Any, layers: Layers = Layers(), timeout: float = 120_000) -> dict[str, Any]:
    """Wait for loaded tiles and a few more frames drawn with them, then read the last frame."""
    ready = [layers.all, layers.stations]
    page.wait_for_function(READY_JS, arg=ready, timeout=timeout)
    frames = page.evaluate("window.__twin.state.frames")
    page.wait_for_function(f"window.__twin.state.frames > {frames + 3}", timeout=timeout)
    page.wait_for_function(READY_JS, arg=ready, timeout=timeout)
    row = dict(page.evaluate(FRAME_JS))
    if layers.all:
        row["layers"] = page.evaluate(LAYERS_JS)
    return row


def _open(page: Any, url: str, layers: Layers) -> None:
    page.goto(url)
    page.wait_for_function("window.__twin && window.__twin.state.scene")
    if layers.all:
        # The context layers exist once the scene is open (scene.json lists them).
        page.wait_for_function("window.__twin.state.variants !== null")
        page.evaluate(ALL_LAYERS_JS)


def small_png(png: bytes, path: Path, width: int = 960) -> None:
    """A screenshot as a small PNG: downscaled to ``width`` and 256 colours (Pillow), else as taken."""
    try:
        from PIL import Image
    except ImportError:  # Pillow is not a dependency: keep the full screenshot
        path.write_bytes(png)
        return
    import io

    image = Image.open(io.BytesIO(png)).convert("RGB")
    image = image.resize((width, round(image.height * width / image.width)), Image.Resampling.LANCZOS)
    image.quantize(256).save(path, optimize=True)


def measure(
    base: str,
    scene: dict[str, Any],
    shots: Path | None = None,
    width: int = 1280,
    height: int = 800,
    layers: Layers = Layers(),
    street_shot: Path | None = None,
) -> list[dict[str, Any]]:
    """All views of one scene, one row per view; screenshots into ``shots`` when given."""
    from playwright.sync_api import sync_playwright

    rows: list[dict[str, Any]] = []
    url = f"{base}/?id={scene['id']}&lang=en&date={DATE}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})

        def shot(name: str) -> None:
            if shots is not None:
                page.screenshot(path=str(shots / f"{name}.png"))

        _open(page, url + "&test=1", layers)
        rows.append({"view": "desktop: start (district framed)", **_settle(page, layers)})
        shot("desktop_start")
        page.keyboard.press("2")
        rows.append({"view": "desktop: walk, centre", **_settle(page, layers)})
        shot("desktop_walk")
        if street_shot is not None:
            small_png(page.screenshot(), street_shot)

        _open(page, url + "&xr=emulate", layers)
        _settle(page, layers)
        page.locator("#enter-vr").click()
        page.wait_for_function("window.__twin.xr.frames > 5 && window.__twin.state.lastFrame.presenting")
        # The emulated headset looks level; the visitor looks down at the table (its centre is ~50° down).
        page.evaluate(HEAD_PITCH_JS, math.radians(-45))
        rows.append({"view": "VR: table-top", **_settle(page, layers)})
        shot("vr_tabletop")
        page.evaluate(HEAD_PITCH_JS, 0.0)

        spread = _spread(scene)
        spots = [(name, e * spread, n * spread, None) for name, (e, n) in SPOTS.items()]
        for variant in scene.get("variants", []):
            for design in variant.get("designs", []):
                origin = design.get("placement", {}).get("origin")
                if origin:
                    e, n = enu_of(origin["lon"], origin["lat"], scene["origin"])
                    spots.append((f"{variant['id']} site", e, n, variant["id"]))
        for name, east, north, variant in spots:
            if variant:
                page.evaluate(f"window.__twin.state.variants.show({json.dumps(variant)})")
            page.evaluate("window.__twin.xr.toTabletop()")
            # World-local axes: +X west, +Y up, +Z north (the tiles' ReorientationPlugin frame).
            page.evaluate(
                "([x, z]) => window.__twin.xr.jumpTo(new (window.__twin.camera.position.constructor)(x, 0, z))",
                [-east, north],
            )
            for heading in ("north", "west", "south", "east"):
                rows.append({"view": f"VR street: {name}, facing {heading}", **_settle(page, layers)})
                shot(f"vr_street_{name.replace(' ', '_')}_{heading}")
                page.evaluate(
                    "(a) => { const x = window.__twin.xr; x.teleport.snapTurn(x.world, x.headPosition(), a); }",
                    math.pi / 2,
                )
            if variant:
                page.evaluate("window.__twin.state.variants.show('base')")
        browser.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print the table (JSON)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, help="published data dir (default: a fresh temporary one)")
    ap.add_argument("--scene", default="hamburg-eimsbuettel")
    ap.add_argument("--out", type=Path, help="also write the JSON here")
    ap.add_argument("--screenshots", type=Path, help="write a screenshot of each view into this folder")
    ap.add_argument("--all-layers", action="store_true", help="every layer on (terrain, roads, areas, trees, sensors)")
    ap.add_argument("--street-shot", type=Path, help="keep the desktop street-level view as a small PNG here")
    args = ap.parse_args(argv)
    _build_viewer()
    with tempfile.TemporaryDirectory(prefix="twin-budget-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        if not _published(data_dir, args.scene):
            if args.scene != "hamburg-eimsbuettel":
                ap.error(f"scene {args.scene!r} is not published in {data_dir}")
            _publish_demo(data_dir)
        started = time.perf_counter()
        with serve(data_dir) as base:
            with urllib.request.urlopen(f"{base}/api/scenes/{args.scene}") as r:
                scene = json.load(r)
            if args.screenshots:
                args.screenshots.mkdir(parents=True, exist_ok=True)
            layers = Layers(args.all_layers, args.all_layers and _has_stations(base, args.scene))
            rows = measure(base, scene, args.screenshots, layers=layers, street_shot=args.street_shot)
    for row in rows:
        row["within_budget"] = all(row[k] <= v for k, v in BUDGET.items())
    xr = [r for r in rows if r["view"].startswith("VR")]
    result = {
        "scene": args.scene,
        "all_layers": args.all_layers,
        "budget_per_eye": BUDGET,
        "seconds": round(time.perf_counter() - started, 1),
        "worst_vr": {k: max(r[k] for r in xr) for k in ("calls_per_eye", "triangles_per_eye")},
        "rows": rows,
    }
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0 if all(r["within_budget"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
