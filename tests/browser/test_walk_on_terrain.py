"""Walking on the terrain in the Bayreuth demo scene (sloped), in headless Chromium: the desktop walker stays at
eye height above the drawn terrain as it walks up and down the slope, the VR visitor at street level (IWER's
emulated Quest 3) has the ground under its feet at the floor, and sensor stations stand on the terrain, not
at the scene's lowest point.

Heights are checked against the terrain as drawn: a ray straight down onto the terrain tiles (the picker's).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import wait_ready
from test_terrain_in_browser import SCENE_ID, TERRAIN_READY_JS, _ground, _world, bayreuth  # noqa: F401

pytestmark = pytest.mark.browser

EYE = 1.7
#: Föhrenweg, Bindlach (the sloped house of the terrain test): the walk starts here, then heads up the hill.
START = (11.5994, 49.9769)
#: Two counting stations somewhere on the slope (what the sensors API would serve), lon/lat.
STATIONS = [
    {
        "type": "Feature",
        "id": "s1",
        "geometry": {"type": "Point", "coordinates": [11.5985, 49.9762]},
        "properties": {"name": "Zählstelle 1", "kind": "bicycle"},
    },
    {
        "type": "Feature",
        "id": "s2",
        "geometry": {"type": "LineString", "coordinates": [[11.6010, 49.9775], [11.6016, 49.9779]]},
        "properties": {"name": "Zählstelle 2", "kind": "car"},
    },
]

CAMERA_JS = "() => window.__twin.camera.position.toArray()"


@pytest.fixture(scope="module")
def page(browser: Any, bayreuth: dict[str, Any]) -> Iterator[Any]:  # noqa: F811
    context = browser.new_context(viewport={"width": 900, "height": 600}, locale="en-GB")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(f"{bayreuth['base']}/?id={SCENE_ID}&lang=en&date=2024-06-21T11:00:00Z&xr=emulate")
    wait_ready(page)
    page.wait_for_function(TERRAIN_READY_JS, timeout=60_000)
    yield page
    context.close()


def _walk_to(page: Any, point: list[float]) -> None:
    """Walk mode, starting where the map looks: set the map target to ``point`` first."""
    page.evaluate("(p) => { const t = window.__twin; t.setMode('orbit'); t.nav.map.target.set(...p); }", point)
    page.evaluate("() => window.__twin.setMode('walk')")
    page.wait_for_function(TERRAIN_READY_JS, timeout=60_000)
    wait_ready(page)


def _eye_height(page: Any) -> tuple[float, list[float]]:
    """The walker's height above the terrain under it, once it has settled (it follows the ground every 0.2 s,
    so just after finer tiles arrive it may still stand on the coarser ones: give it up to 5 s)."""
    for _ in range(25):
        x, y, z = page.evaluate(CAMERA_JS)
        height = y - _ground(page, [x, y, z])
        if abs(height - EYE) < 0.15:
            break
        page.wait_for_timeout(200)
    return height, [x, y, z]


def test_the_walker_keeps_eye_height_on_the_slope(page: Any, bayreuth: dict[str, Any]) -> None:  # noqa: F811
    origin = bayreuth["scene"]["origin"]
    start = _world(*START, origin["height"], origin)
    _walk_to(page, start)
    heights = []
    for _ in range(3):
        height, _ = _eye_height(page)
        heights.append(height)
        # Walk 25 m ahead (what W does, frame by frame), facing the way the map looked; read the height again.
        page.evaluate("window.__twin.nav._moveBy(0, 25)")
        page.wait_for_function(TERRAIN_READY_JS, timeout=60_000)
        wait_ready(page)
    height, (x, y, z) = _eye_height(page)
    heights.append(height)
    travelled = abs(x - start[0]) + abs(z - start[2])
    assert travelled > 50.0
    assert heights == pytest.approx([EYE] * len(heights), abs=0.15), heights
    # Far above the scene's lowest point: the flat fallback would have put the eye 30+ m lower here.
    assert y - page.evaluate("window.__twin.nav.groundY") > 10.0
    assert page.errors == []


def test_sensor_stations_stand_on_the_terrain(page: Any) -> None:
    placed = page.evaluate(
        """(features) => {
          const s = window.__twin.host.get('sensors');
          s.features = features;
          s._place();
          return s.markers.stations.map((st) => ({point: st.point.toArray(), line: st.line.map((p) => p.toArray())}));
        }""",
        STATIONS,
    )
    lowest = page.evaluate("window.__twin.state.bounds.box.min.y")
    for station in placed:
        for p in [station["point"], *station["line"]]:
            ground = _ground(page, p)
            assert p[1] - ground == pytest.approx(0.4, abs=0.15), (p, ground)  # the layer's LIFT above the ground
            assert p[1] - lowest > 5.0
    assert page.errors == []


def test_the_vr_visitor_stands_on_the_ground(page: Any, bayreuth: dict[str, Any]) -> None:  # noqa: F811
    origin = bayreuth["scene"]["origin"]
    page.evaluate("window.__twin.setMode('orbit')")
    page.locator("#enter-vr").click()
    page.wait_for_function("window.__twin.xr.frames > 5 && window.__twin.state.lastFrame.presenting", timeout=30_000)
    up_the_hill = _world(START[0] + 0.002, START[1] + 0.001, origin["height"], origin)
    page.evaluate("(p) => window.__twin.xr.jumpTo(new (window.__twin.camera.position.constructor)(...p))", up_the_hill)
    page.wait_for_function(TERRAIN_READY_JS, timeout=60_000)
    frames = page.evaluate("window.__twin.xr.frames")
    page.wait_for_function(f"window.__twin.xr.frames > {frames + 30}", timeout=60_000)
    gap = page.evaluate(
        """() => {
          const x = window.__twin.xr;
          const head = x.viewerScenePosition();
          const ground = window.__twin.host.get('terrain').heightAt(head.x, head.z);
          const floor = x.world.localToWorld(head.clone().setY(ground)).y;
          return {floor, floorY: x.teleport.floorY, ground, lowest: window.__twin.state.bounds.box.min.y};
        }"""
    )
    assert gap["ground"] is not None and gap["ground"] - gap["lowest"] > 5.0
    assert gap["floor"] == pytest.approx(gap["floorY"], abs=0.1), gap
    page.evaluate("window.__twin.xr.end()")
    page.wait_for_function("!window.__twin.state.lastFrame.presenting")
    assert page.errors == []


#: Rows the toolbar's visible items make (a new row where an item's top is 15 px below the row's), the
#: toolbar's lower edge and the info panel's upper edge.
LAYOUT_JS = """() => {
  window.__twin.panel.showAttributes({featureId: 1, properties: {name: 'x'}, className: 'building'});
  const items = [...document.querySelectorAll('#toolbar > *')].filter((e) => e.offsetParent && e.id !== 'help');
  const tops = items.map((e) => e.getBoundingClientRect().top).sort((a, b) => a - b);
  let rows = 1;
  for (let i = 1, row = tops[0]; i < tops.length; i++) if (tops[i] > row + 15) { rows++; row = tops[i]; }
  const bar = document.querySelector('#toolbar').getBoundingClientRect();
  return {rows, toolbar: bar.bottom, info: document.querySelector('#info').getBoundingClientRect().top};
}"""


def test_toolbar_keeps_to_two_rows_and_panels_below_it(page: Any) -> None:
    # The module's page is narrower (900 px, with "Enter VR" as on a Quest browser): more rows, the panel below.
    narrow = page.evaluate(LAYOUT_JS)
    assert narrow["rows"] >= 3 and narrow["info"] >= narrow["toolbar"], narrow
    # 1280 × 720 in German (the longer labels): two rows.
    page.set_viewport_size({"width": 1280, "height": 720})
    page.select_option("#lang", "de")
    page.wait_for_function("document.querySelector('#context-layers legend').textContent === 'Ebenen'")
    wait_ready(page)
    layout = page.evaluate(LAYOUT_JS)
    assert layout["rows"] == 2 and layout["info"] >= layout["toolbar"], layout
    assert page.errors == []
