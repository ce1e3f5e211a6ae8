"""Street context in the viewer (headless Chromium) on the Hamburg demo scene, built by twin and served by the
scene server: roads, areas and trees are drawn, each layer's toggle hides and shows it, and picking a road or a
tree shows its OSM tags.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import enu_world, look_at, serve_in_thread, wait_ready
from real_scene import enu_of

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCENE = ROOT / "scenes" / "hamburg-eimsbuettel"
SCENE_ID = "hamburg-eimsbuettel"
LAYERS = ("roads", "areas", "trees")

CONTEXT_READY_JS = """(ids) => {
  const info = window.__twin.host.get('context')?.info() ?? {};
  return ids.every((id) => info[id] && info[id].rootLoaded && info[id].loadProgress === 1 && info[id].models > 0);
}"""

#: Pick straight down at a world-local point through the context layer; the selected feature's properties.
PICK_DOWN_JS = """([x, y, z]) => {
  const t = window.__twin;
  const ray = t.picker.raycaster.ray;
  ray.origin.copy(t.world.localToWorld(t.camera.position.clone().set(x, y + 300, z)));
  const below = t.world.localToWorld(t.camera.position.clone().set(x, y - 10, z));
  ray.direction.copy(below.sub(ray.origin).normalize());
  t.picker.raycaster.far = Infinity;
  t.host.get('context').onPick(null);
  return t.picker.selected ? t.picker.selected.properties : null;
}"""


@pytest.fixture(scope="module")
def hamburg(site: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The demo scene built, published and served (``site`` builds the viewer); yields base URL and data."""
    from server.app import create_app
    from server.cli import publish_folder
    from server.settings import Settings
    from twin.build import build_scene
    from twin.scene import load_scene

    tmp = tmp_path_factory.mktemp("hamburg")
    build = tmp / "build"
    build_scene(load_scene(SCENE), build)
    (tmp / "scenes").mkdir()
    settings = Settings(data_dir=tmp / "data", scenes_dir=tmp / "scenes")
    publish_folder(settings, SCENE_ID, build)
    source = json.loads((SCENE / "data" / "hamburg_eimsbuettel_2km2.geojson").read_text(encoding="utf-8"))
    with serve_in_thread(create_app(settings)) as base:
        with urllib.request.urlopen(f"{base}/api/scenes/{SCENE_ID}") as r:
            scene = json.load(r)
        yield {"base": base, "scene": scene, "features": source["features"]}


@pytest.fixture(scope="module")
def viewer(browser: Any, hamburg: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1000, "height": 700}, locale="en-GB")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(f"{hamburg['base']}/?id={SCENE_ID}&lang=en&date=2024-06-21T11:00:00Z&test=1")
    wait_ready(page)
    page.wait_for_function(CONTEXT_READY_JS, arg=["roads", "areas"], timeout=60_000)
    yield page
    context.close()


def _triangles(page: Any) -> int:
    frames = page.evaluate("window.__twin.state.frames")
    page.wait_for_function(f"window.__twin.state.frames > {frames + 2}")
    return int(page.evaluate("window.__twin.state.lastFrame.triangles"))


def _first(features: list[dict[str, Any]], key: str, value: str, geometry: str) -> dict[str, Any]:
    for f in features:
        p = f["properties"]
        if p.get(key) == value and f["geometry"]["type"] == geometry and "bridge" not in p and "tunnel" not in p:
            return f
    raise AssertionError(f"no {key}={value} {geometry} in the demo")


def test_roads_areas_and_trees_are_drawn_and_toggle(viewer: Any, hamburg: dict[str, Any]) -> None:
    layers = {layer["id"]: layer for layer in hamburg["scene"]["layers"]}
    for layer in LAYERS:
        assert layers[layer]["tileset"] == f"{layer}/tileset.json" and layers[layer]["features"] > 0
    # Trees load within about 3 km: look at the centre from nearer than the start view.
    look_at(viewer, [0.0, 0.0, 0.0], (0.0, 600.0, 600.0))
    viewer.wait_for_function(CONTEXT_READY_JS, arg=list(LAYERS), timeout=60_000)
    info = viewer.evaluate("window.__twin.host.get('context').info()")
    for layer in LAYERS:
        assert info[layer]["url"].endswith(f"/tiles/{SCENE_ID}/{layer}/tileset.json")
        assert info[layer]["errors"] == [] and info[layer]["visible"]
    # Each layer's checkbox hides what it draws and shows it again.
    for layer in LAYERS:
        before = _triangles(viewer)
        box = viewer.locator(f"#context-layers input[value={layer}]")
        box.uncheck()
        hidden = _triangles(viewer)
        assert not viewer.evaluate(f"window.__twin.host.get('context').info().{layer}.visible")
        box.check()
        assert hidden < before, (layer, hidden, before)
        assert _triangles(viewer) == before
    assert viewer.errors == []


def test_picking_a_road_and_a_tree_shows_their_tags(viewer: Any, hamburg: dict[str, Any]) -> None:
    origin = hamburg["scene"]["origin"]
    road = _first(hamburg["features"], "highway", "primary", "LineString")
    (lon0, lat0), (lon1, lat1) = road["geometry"]["coordinates"][:2]
    east, north = enu_of((lon0 + lon1) / 2, (lat0 + lat1) / 2, origin)
    look_at(viewer, enu_world(east, north, 0.0), (0.0, 150.0, 150.0))
    viewer.wait_for_function(CONTEXT_READY_JS, arg=["roads"], timeout=60_000)
    picked = viewer.evaluate(PICK_DOWN_JS, enu_world(east, north, 0.0))
    assert picked is not None and "highway" in picked, picked  # at a junction the piece may be the side street's
    assert picked["id"].startswith("way/") and picked["kind"] in ("major", "minor")
    tree = _first(hamburg["features"], "natural", "tree", "Point")
    east, north = enu_of(*tree["geometry"]["coordinates"], origin)
    look_at(viewer, enu_world(east, north, 0.0), (0.0, 80.0, 80.0))
    viewer.wait_for_function(CONTEXT_READY_JS, arg=["trees"], timeout=60_000)
    # A metre off the trunk's axis: straight down the axis the ray meets the crown's pole, a point.
    picked = viewer.evaluate(PICK_DOWN_JS, enu_world(east + 1.0, north + 0.5, 0.0))
    assert picked is not None and picked.get("natural") == "tree" and picked["kind"] == "tree", picked
    assert viewer.locator("#info").is_visible()
    assert viewer.errors == []
