"""Terrain in the viewer (3d-tiles-renderer in headless Chromium) on the Bayreuth demo scene, built by twin and
served by the scene server: the terrain tileset is drawn, a building on the slope stands on the ground it shows
(no corner floats, the lowest one touches), and the design's site is level in its variant only.

Heights are read with rays in the page (the viewer's own picker) against the terrain or the building tiles.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import look_at, serve_in_thread, wait_ready

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCENE = ROOT / "scenes" / "bayreuth"
SCENE_ID = "bayreuth"
VARIANT = "house-slope"
#: A house at Föhrenweg, Bindlach, with 3 m of fall under its footprint.
SLOPED = "way/104362721"
#: The variant's site (scenes/bayreuth/scene.toml), lon/lat.
SITE = [(11.5994298, 49.976845), (11.5997459, 49.976845), (11.5997459, 49.9769783), (11.5994298, 49.9769783)]

#: The terrain layer shows the tileset whose URL ends so.
TERRAIN_URL_JS = "(tail) => (window.__twin.host.get('terrain').info()?.url ?? '').endsWith(tail)"

TERRAIN_READY_JS = """() => {
  const i = window.__twin.host.get('terrain')?.info();
  return Boolean(i && i.rootLoaded && i.loadProgress === 1 && i.models > 0);
}"""

#: First hit of a ray (world-local origin and direction) on the terrain or the building tiles, world-local.
RAY_JS = """([origin, dir, layer]) => {
  const t = window.__twin;
  const roots = layer === 'terrain'
    ? [t.host.get('terrain').current.group]
    : t.state.variants.visible().map((x) => x.group);
  const local = (p) => t.world.localToWorld(t.camera.position.clone().set(...p));
  const o = local(origin);
  const e = local([origin[0] + dir[0], origin[1] + dir[1], origin[2] + dir[2]]);
  const ray = t.picker.raycaster.ray.clone();
  ray.origin.copy(o);
  ray.direction.copy(e.sub(o).normalize());
  const hit = t.picker.intersectRay(ray, roots);
  return hit ? t.world.worldToLocal(hit.point.clone()).toArray() : null;
}"""


@pytest.fixture(scope="module")
def bayreuth(site: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The demo scene built, published and served (``site`` builds the viewer); yields base URL and data."""
    from server.app import create_app
    from server.cli import publish_folder
    from server.settings import Settings
    from twin.build import build_scene
    from twin.scene import load_scene

    tmp = tmp_path_factory.mktemp("bayreuth")
    build = tmp / "build"
    build_scene(load_scene(SCENE), build)
    (tmp / "scenes").mkdir()
    settings = Settings(data_dir=tmp / "data", scenes_dir=tmp / "scenes")
    publish_folder(settings, SCENE_ID, build)
    features = json.loads((build / "buildings.geojson").read_text(encoding="utf-8"))["features"]
    with serve_in_thread(create_app(settings)) as base:
        with urllib.request.urlopen(f"{base}/api/scenes/{SCENE_ID}") as r:
            scene = json.load(r)
        yield {"base": base, "scene": scene, "buildings": {f["id"]: f for f in features}}


@pytest.fixture(scope="module")
def viewer(browser: Any, bayreuth: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1000, "height": 700}, locale="en-GB")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(f"{bayreuth['base']}/?id={SCENE_ID}&lang=en&date=2024-06-21T11:00:00Z&test=1")
    wait_ready(page)
    page.wait_for_function(TERRAIN_READY_JS, timeout=60_000)
    yield page
    context.close()


def _world(lon: float, lat: float, height: float, origin: dict[str, float]) -> list[float]:
    """A WGS 84 point (ellipsoidal height) in viewer world axes (+X west, +Y up, +Z north) from the origin."""
    from twin.crs import enu_to_ecef_matrix, geodetic_to_ecef

    m = enu_to_ecef_matrix(origin["lon"], origin["lat"], origin["height"])
    p = geodetic_to_ecef(np.array([lon]), np.array([lat]), np.array([height]))[0]
    east, north, up, _ = np.linalg.solve(m, np.append(p, 1.0))
    return [-float(east), float(up), float(north)]


def _settle(page: Any, at: list[float], offset: tuple[float, float, float]) -> None:
    """Look at ``at`` and wait until buildings and terrain loaded what that view needs (the finest tiles)."""
    look_at(page, at, offset)
    page.wait_for_function(TERRAIN_READY_JS, timeout=60_000)
    wait_ready(page)


def _ground(page: Any, point: list[float]) -> float:
    """Height (world y) of the drawn terrain under a world-local point."""
    hit = page.evaluate(RAY_JS, [[point[0], point[1] + 500.0, point[2]], [0, -1, 0], "terrain"])
    assert hit is not None, f"no terrain under {point}"
    return float(hit[1])


def test_terrain_is_drawn(viewer: Any, bayreuth: dict[str, Any]) -> None:
    layers = {layer["id"]: layer for layer in bayreuth["scene"]["layers"]}
    assert layers["terrain"]["tileset"] == "terrain/tileset.json"
    info = viewer.evaluate("window.__twin.host.get('terrain').info()")
    assert info["url"].endswith(f"/tiles/{SCENE_ID}/terrain/tileset.json") and info["errors"] == []
    # The terrain adds triangles to the frame: hide it and the frame draws fewer.
    with_terrain = viewer.evaluate("window.__twin.state.lastFrame.triangles")
    viewer.evaluate("window.__twin.host.get('terrain').current.group.visible = false")
    frames = viewer.evaluate("window.__twin.state.frames")
    viewer.wait_for_function(f"window.__twin.state.frames > {frames + 2}")
    without = viewer.evaluate("window.__twin.state.lastFrame.triangles")
    viewer.evaluate("window.__twin.host.get('terrain').current.group.visible = true")
    assert with_terrain > without > 0
    # And it has relief: the ground under the scene's corners differs by tens of metres.
    w, s, e, n = bayreuth["scene"]["bounds"]
    origin = bayreuth["scene"]["origin"]
    heights = [_ground(viewer, _world(lon, lat, origin["height"], origin)) for lon, lat in [(w, s), (e, n), (w, n)]]
    assert max(heights) - min(heights) > 10.0, heights
    assert viewer.errors == []


def test_a_building_on_the_slope_stands_on_the_ground(viewer: Any, bayreuth: dict[str, Any]) -> None:
    origin = bayreuth["scene"]["origin"]
    feature = bayreuth["buildings"][SLOPED]
    ring = np.asarray(feature["geometry"]["coordinates"][0][:-1])
    centre = ring.mean(axis=0)
    ground = feature["properties"]["ground"]  # working z of its base: z0 + ground is ellipsoidal
    floor = _world(centre[0], centre[1], origin["height"] + ground, origin)
    _settle(viewer, floor, (40.0, 50.0, 40.0))
    hit = viewer.evaluate(RAY_JS, [[floor[0], floor[1] - 30.0, floor[2]], [0, 1, 0], "buildings"])
    assert hit is not None and hit[1] == pytest.approx(floor[1], abs=0.05)  # the floor where the build put it
    gaps = []
    for corner in ring:
        # Just outside each corner, away from the centre (the ground next to the wall).
        out = centre + (corner - centre) * (1.0 + 0.5 / np.linalg.norm((corner - centre) * [71_500, 111_200]))
        p = _world(out[0], out[1], origin["height"] + ground, origin)
        gaps.append(_ground(viewer, p) - floor[1])
    # No corner floats (the ground is never below the floor), and the lowest one touches it.
    assert min(gaps) > -0.1, gaps
    assert min(gaps) < 0.5 and max(gaps) > 1.0, gaps
    assert viewer.errors == []


def test_the_design_site_is_level_in_its_variant_only(viewer: Any, bayreuth: dict[str, Any]) -> None:
    origin = bayreuth["scene"]["origin"]
    ring = np.asarray(SITE)
    centre = ring.mean(axis=0)
    inner = [centre + (c - centre) * 0.85 for c in ring]
    points = [_world(p[0], p[1], origin["height"], origin) for p in inner]
    _settle(viewer, points[0], (30.0, 45.0, 30.0))
    before = [_ground(viewer, p) for p in points]
    assert max(before) - min(before) > 0.5, before  # the plot slopes
    viewer.select_option("#variant", VARIANT)
    wait_ready(viewer)
    viewer.wait_for_function(TERRAIN_URL_JS, arg=f"/variants/{VARIANT}/terrain/tileset.json")
    _settle(viewer, points[0], (30.0, 45.0, 30.0))
    level = [_ground(viewer, p) for p in points]
    assert max(level) - min(level) < 0.1, level
    variant = next(v for v in bayreuth["scene"]["variants"] if v["id"] == VARIANT)
    assert variant["layers"] == [{"id": "terrain", "tileset": f"variants/{VARIANT}/terrain/tileset.json"}]
    viewer.select_option("#variant", "base")
    wait_ready(viewer)
    viewer.wait_for_function(TERRAIN_URL_JS, arg=f"/tiles/{SCENE_ID}/terrain/tileset.json")
    again = [_ground(viewer, p) for p in points]
    assert again == pytest.approx(before, abs=0.05)
    assert viewer.errors == []
