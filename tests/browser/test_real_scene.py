"""The viewer (3d-tiles-renderer in headless Chromium) on the builder's real output, served by the scene
server: Draco-compressed tiles load and draw, the camera frames the scene, a click on a real
building shows its attributes, the design variant replaces a building, and in VR (IWER Quest 3) the
table-top and street level draw within the per-eye budget.

One page is loaded once for the desktop tests (a module fixture) to keep the suite fast in software
rendering; the tests run in file order and each leaves the page where the next can pick it up.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from helpers import PROJECT_JS, canvas_pixels, enu_world, look_at, screenshot_stats, wait_ready
from real_scene import REPLACED, SCENE_ID, VARIANT, RealScene

from twin.encode.glb import read_glb

pytestmark = pytest.mark.browser

QUERY = f"/?id={SCENE_ID}&lang=en&date=2024-06-21T14:00:00Z"
HAMBURG_HAUS = "relation/3602122"
BUDGET = {"calls_per_eye": 100, "triangles_per_eye": 750_000}

#: The feature under a world-local point, picked through the screen like a click.
PICK_JS = (
    "(p) => { const [x, y] = (" + PROJECT_JS + ")(p); const h = window.__twin.pickScreen(x, y);"
    " return h ? window.__twin.picker.select(h).properties : null; }"
)

#: Per-eye numbers of the last frame: the shadow pass runs once per frame, the scene once per view.
PER_EYE_JS = """() => {
  const f = window.__twin.state.lastFrame;
  return {presenting: f.presenting, views: f.views,
          calls_per_eye: (f.calls - f.shadowCalls) / f.views,
          triangles_per_eye: (f.triangles - f.shadowTriangles) / f.views};
}"""


@pytest.fixture(scope="module")
def viewer(browser: Any, real_scene: RealScene) -> Iterator[Any]:
    """One desktop page on the real scene (1000 x 700, English), loaded and drawn."""
    context = browser.new_context(viewport={"width": 1000, "height": 700}, locale="en-GB")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(real_scene.base + QUERY + "&test=1")
    wait_ready(page)
    yield page
    context.close()


def _roof(scene: RealScene, building_id: str, below: float = 0.3) -> list[float]:
    """World-local point just under the roof of a building, above a point inside its footprint."""
    east, north = scene.building_enu(building_id)
    return enu_world(east, north, scene.buildings[building_id]["height"] - below)


def _first_content_url(tileset_url: str) -> str:
    with urllib.request.urlopen(tileset_url) as r:
        tiles = [json.load(r)["root"]]
    while tiles:
        tile = tiles.pop(0)
        if "content" in tile:
            return urllib.parse.urljoin(tileset_url, tile["content"]["uri"])
        tiles.extend(tile.get("children", []))
    raise AssertionError("no content in the tileset")


def test_compressed_tiles_load_and_draw(viewer: Any, real_scene: RealScene) -> None:
    # What the page below decodes: the builder's tiles are Draco-compressed.
    with urllib.request.urlopen(_first_content_url(real_scene.scene["tileset_url"])) as r:
        gltf, _ = read_glb(r.read())
    assert gltf["extensionsRequired"] == ["KHR_draco_mesh_compression"]
    info = viewer.evaluate("window.__twin.tilesInfo()")
    assert len(info) == 1
    tiles = info[0]
    assert tiles["url"] == real_scene.scene["tileset_url"]
    assert tiles["rootLoaded"] and tiles["loadProgress"] == 1 and tiles["models"] >= 1
    assert tiles["errors"] == []
    # Meshes sharing a material were merged: never more meshes than glTF primitives.
    assert 0 < tiles["meshesAfterMerge"] <= tiles["primitivesLoaded"]
    frame = viewer.evaluate("window.__twin.state.lastFrame")
    assert frame["triangles"] - frame["shadowTriangles"] > 3000  # 155 buildings with roofs
    assert 0 < frame["calls"] <= 100
    colours, spread = screenshot_stats(viewer)
    assert colours > 50 and spread > 5, "screenshot looks blank"
    attribution = viewer.locator("#attribution")
    assert attribution.is_visible()
    assert "© OpenStreetMap contributors" in attribution.inner_text() and "ODbL-1.0" in attribution.inner_text()
    assert viewer.errors == []


def test_camera_frames_the_scene(viewer: Any) -> None:
    # The start view looks at the scene's bounds: their centre is on screen, near the middle, and the
    # scene is neither a dot nor larger than the view.
    centre = viewer.evaluate("window.__twin.state.bounds.sphere.center.toArray()")
    x, y = viewer.evaluate(PROJECT_JS, centre)
    assert 250 < x < 750 and 175 < y < 525, (x, y)
    corners = viewer.evaluate(
        """() => { const b = window.__twin.state.bounds.box; const out = [];
          for (const x of [b.min.x, b.max.x]) for (const z of [b.min.z, b.max.z]) out.push([x, b.min.y, z]);
          return out; }"""
    )
    xs = [viewer.evaluate(PROJECT_JS, c)[0] for c in corners]
    assert 300 < max(xs) - min(xs) < 1400


def test_click_real_building_shows_attributes(viewer: Any, real_scene: RealScene) -> None:
    roof = _roof(real_scene, HAMBURG_HAUS)
    look_at(viewer, roof, (-40, 90, -60))
    x, y = viewer.evaluate(PROJECT_JS, roof)
    viewer.mouse.click(x, y)
    info = viewer.locator("#info")
    info.wait_for(state="visible", timeout=5000)
    text = info.inner_text()
    assert "Hamburg-Haus Eimsbüttel" in text
    assert "Doormannsweg 12" in text and "20259 Hamburg" in text
    assert HAMBURG_HAUS in text and "public" in text and "3" in text
    selected = viewer.evaluate("(({featureId: id, highlight: h}) => [id, h.value])(window.__twin.picker.selected)")
    assert selected[0] is not None and selected[1] == selected[0], "the picked building is highlighted"
    viewer.keyboard.press("Escape")
    assert info.is_hidden()


def test_variant_replaces_the_building(viewer: Any, real_scene: RealScene) -> None:
    # Look down on the replaced building: its roof in the existing state, the house in the variant.
    roof = _roof(real_scene, REPLACED)
    look_at(viewer, roof, (-15, 80, -25))
    house_roof = enu_world(*real_scene.building_enu(REPLACED), 8.0)
    assert viewer.evaluate(PICK_JS, roof)["id"] == REPLACED
    before = canvas_pixels(viewer)
    viewer.select_option("#variant", VARIANT)
    wait_ready(viewer)
    info = viewer.evaluate("window.__twin.tilesInfo()")[0]
    assert info["url"].endswith(f"/variants/{VARIANT}/tileset.json") and info["errors"] == []
    picked = viewer.evaluate(PICK_JS, house_roof)
    assert picked is not None and picked.get("id") != REPLACED, picked
    # The house's parts carry the design's own metadata (source: the glb; design: its id in the manifest,
    # not the file's stem or an internal name, issue 12), not an OSM id.
    assert picked["source"] == "pmndrs_house-5.glb" and picked["design"] == "house-5", picked
    after = canvas_pixels(viewer)
    assert np.mean(np.any(before != after, axis=2)) > 0.01, "the drawing did not change"
    metrics = viewer.locator("#metrics")
    assert metrics.is_visible()
    text = metrics.inner_text()
    assert "Footprint" in text and "Replaced" in text and "241.2 m²" in text
    assert "replaces 1 existing building" in text
    viewer.select_option("#variant", "base")
    wait_ready(viewer)
    assert metrics.is_hidden()
    assert viewer.errors == []


def test_vr_tabletop_and_street_within_budget(browser: Any, real_scene: RealScene) -> None:
    context = browser.new_context(viewport={"width": 800, "height": 600}, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(real_scene.base + QUERY + "&xr=emulate")
        wait_ready(page)
        page.locator("#enter-vr").click()
        page.wait_for_function("window.__twin.xr.frames > 3 && window.__twin.state.lastFrame.presenting")
        # Look down at the table (the emulated headset looks level).
        page.evaluate("(a) => window.__twin.xrDevice.quaternion.set(Math.sin(a / 2), 0, 0, Math.cos(a / 2))", -0.8)
        wait_ready(page)
        tabletop = page.evaluate(PER_EYE_JS)
        # The miniature is drawn: its tiles are not clipped by a near plane taken from the desktop camera.
        assert tabletop["presenting"] and tabletop["views"] == 2
        assert tabletop["triangles_per_eye"] > 3000, tabletop
        page.evaluate("(a) => window.__twin.xrDevice.quaternion.set(0, 0, 0, 1)", 0)
        east, north = real_scene.building_enu(HAMBURG_HAUS)
        page.evaluate(
            "([x, z]) => window.__twin.xr.jumpTo(new (window.__twin.camera.position.constructor)(x, 0, z))",
            [-(east - 30), north],
        )
        wait_ready(page)
        street = page.evaluate(PER_EYE_JS)
        assert page.evaluate("window.__twin.xr.mode") == "street"
        assert street["triangles_per_eye"] > 0
        for where, numbers in (("table-top", tabletop), ("street", street)):
            for key, limit in BUDGET.items():
                assert numbers[key] <= limit, f"{where}: {key} {numbers[key]} over budget {limit}"
        assert errors == []
    finally:
        context.close()
