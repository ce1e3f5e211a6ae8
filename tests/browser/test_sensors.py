"""Traffic sensors in the browser (issue 18), against the real scene server with the hand-made demo scene
published as Hamburg-Eimsbüttel, whose manifest brings the 14 recorded bicycle stations: moving the time
control changes the road sections' colours, a station's chart is drawn by uPlot, and in VR (IWER) the
time strip under the menu steps the time and picking a station shows its chart board."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import _build_viewer
from helpers import serve_in_thread, wait_ready
from test_xr import AIM_JS, BUDGET, _frames, _per_eye, _trigger
from twin_tileset import write_scene

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SCENE = "hamburg-eimsbuettel"
#: The Eimsbüttel demo's extent (tests/sensors/conftest.py): the 14 stations lie within it plus 700 m.
BOUNDS = [9.945, 53.570, 9.967, 53.582]
QUERY = f"/?id={SCENE}&lang=en&date=2024-06-21T14:00:00Z"
LAYER = "window.__twin.host.get('sensors')"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from server import cli
    from server.app import create_app
    from server.settings import Settings

    _build_viewer()
    tmp = tmp_path_factory.mktemp("sensors")
    write_scene(tmp / "build")
    info = json.loads((tmp / "build" / "scene.json").read_text())
    (tmp / "build" / "scene.json").write_text(json.dumps({**info, "bounds": BOUNDS}))
    settings = Settings(data_dir=tmp / "data", scenes_dir=REPO / "scenes")
    cli.publish_folder(settings, SCENE, tmp / "build")
    with serve_in_thread(create_app(settings)) as url:
        yield url


def _open(page: Any, base: str, extra: str) -> None:
    page.goto(base + QUERY + extra)
    wait_ready(page, min_models=2)
    page.wait_for_function(f"{LAYER}?.markers.stations.length > 0 && {LAYER}.day !== null", timeout=30_000)


def test_time_control_recolours_sections_and_chart(page: Any, base: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _open(page, base, "&test=1")
    assert page.evaluate(f"{LAYER}.markers.stations.length") == 14
    assert page.evaluate(f"{LAYER}.day.date") == "2023-03-23", "the data's last full day"
    # Opened at the day's busiest step; two instanced marker meshes at most, one mesh for all sections.
    assert page.evaluate(f"{LAYER}.markers.group.children.filter((o) => o.isMesh && !o.isSprite).length") <= 3
    busy = page.evaluate(f"{LAYER}.sectionColours()")
    assert len(busy) == 14 and all(c and c.startswith("#") for c in busy.values())
    slider = page.locator("#sensors-step")
    slider.focus()
    page.keyboard.press("Home")  # 00:00–00:15: hardly a bicycle
    page.wait_for_function(f"{LAYER}.stepper.index === 0")
    night = page.evaluate(f"{LAYER}.sectionColours()")
    assert night != busy
    assert "00:00" in page.locator("#sensors-time").inner_text()
    page.keyboard.press("ArrowRight")
    assert page.evaluate(f"{LAYER}.stepper.index") == 1
    # Play runs the day on, pause stops it.
    page.locator("#sensors-play").click()
    page.wait_for_function(f"{LAYER}.stepper.index >= 3", timeout=10_000)
    page.locator("#sensors-play").press("Enter")
    stopped = page.evaluate(f"{LAYER}.stepper.index")
    page.wait_for_timeout(600)
    assert page.evaluate(f"{LAYER}.stepper.index") == stopped
    # Jump to another date: the 22nd.
    page.locator("#sensors-date").fill("2023-03-22")
    page.wait_for_function(f"{LAYER}.day.date === '2023-03-22'")
    # A station's chart: uPlot canvases, the day's total and peak hour.
    page.evaluate(f"{LAYER}.openChart(0)")
    page.wait_for_function(f"{LAYER}.chartShown !== null", timeout=10_000)
    assert page.locator("#sensor-chart .uplot canvas").count() == 2
    facts = page.locator("#sensor-chart .facts").inner_text()
    assert "Total on 2023-03-22" in facts and "peak hour" in facts
    page.keyboard.press("Escape")
    assert page.locator("#sensor-chart").is_hidden()
    assert errors == []


def test_vr_time_strip_and_pick_a_station(page: Any, base: str) -> None:
    _open(page, base, "&xr=emulate")
    page.locator("#enter-vr").click()
    page.wait_for_function("window.__twin.xr.frames > 5 && window.__twin.state.lastFrame.presenting", timeout=30_000)
    xr = "window.__twin.xr"
    # The time strip under the menu: one step on.
    before = page.evaluate(f"{LAYER}.stepper.index")
    at = page.evaluate(f"{LAYER}.strip.buttonWorldPosition('sensors-next').toArray()")
    head = page.evaluate(f"{xr}.headPosition().toArray()")
    start = [a + (h - a) * 0.4 for a, h in zip(at, head, strict=True)]
    page.evaluate(AIM_JS, {"from": start, "at": at, "local": False})
    _frames(page)
    _trigger(page)
    assert page.evaluate(f"{LAYER}.lastPressed") == "sensors-next"
    assert page.evaluate(f"{LAYER}.stepper.index") == (before + 1) % 96
    # Point at the nearest station's post and pull: its chart board shows.
    target = page.evaluate(
        f"""() => {{
        const l = {LAYER}; const t = window.__twin; const head = t.xr.headPosition();
        const pts = l.markers.stations.map((s) => t.world.localToWorld(s.point.clone()));
        pts.sort((a, b) => a.distanceTo(head) - b.distanceTo(head));
        return pts[0].toArray();
    }}"""
    )
    head = page.evaluate(f"{xr}.headPosition().toArray()")
    page.evaluate(AIM_JS, {"from": [head[0] + 0.15, head[1] - 0.3, head[2] - 0.2], "at": target, "local": False})
    _frames(page)
    _trigger(page)
    page.wait_for_function(f"{LAYER}.chartShown?.xr === true", timeout=10_000)
    assert page.evaluate(f"{LAYER}.board.mesh.visible")
    assert page.evaluate(f"{LAYER}.chartShown.days") >= 1
    # With markers, sections, labels, the strip and the board, the VR frame keeps test_xr's budget.
    per_eye = _per_eye(page)
    assert per_eye["draw_calls_per_eye"] <= BUDGET["draw_calls_per_eye"], per_eye
