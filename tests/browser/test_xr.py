"""The viewer in an emulated Meta Quest 3 (IWER) in headless Chromium: VR session, table-top,
jump to street level, controller picking, the VR menu, and the draw-call/triangle budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import enu_world, wait_ready

pytestmark = pytest.mark.browser

XR_DEMO = "/?scene=/demo/scene.json&xr=emulate&lang=en&date=2024-06-21T14:00:00Z"

#: Point the right controller from `from` (reference space) at a world-local scene point, or at a
#: reference-space point when `local` is false. -Z of the controller is its pointing ray.
AIM_JS = """({from: f, at, local}) => {
  const t = window.__twin;
  const V = t.camera.position.constructor;
  const target = new V(...at);
  if (local) t.world.localToWorld(target);
  const eye = new V(...f);
  const m = t.camera.matrix.clone().lookAt(eye, target, new V(0, 1, 0));
  const q = t.camera.quaternion.clone().setFromRotationMatrix(m);
  const c = t.xrDevice.controllers.right;
  c.position.set(eye.x, eye.y, eye.z);
  c.quaternion.set(q.x, q.y, q.z, q.w);
}"""

BUDGET = {"draw_calls_per_eye": 100, "triangles_per_eye": 750_000}


def _frames(page: Any, n: int = 3) -> None:
    """Let the XR loop run `n` more frames (pose and button changes apply on XR frames)."""
    start = page.evaluate("window.__twin.xr.frames")
    page.wait_for_function(f"window.__twin.xr.frames >= {start + n}", timeout=30_000)


def _trigger(page: Any) -> None:
    page.evaluate("window.__twin.xrDevice.controllers.right.updateButtonValue('trigger', 1)")
    _frames(page, 2)
    page.evaluate("window.__twin.xrDevice.controllers.right.updateButtonValue('trigger', 0)")
    _frames(page, 2)


def _enter_vr(page: Any, site: str) -> None:
    page.goto(site + XR_DEMO)
    wait_ready(page, min_models=2)
    button = page.locator("#enter-vr")
    button.wait_for(state="visible", timeout=10_000)
    button.click()
    page.wait_for_function("window.__twin.xr.frames > 5 && window.__twin.state.lastFrame.presenting", timeout=30_000)


def _per_eye(page: Any) -> dict[str, float]:
    wait_ready(page, min_models=2)
    frame = page.evaluate("window.__twin.state.lastFrame")
    assert frame["presenting"]
    # three.js draws each object once per eye into the ArrayCamera's two viewports.
    return {"draw_calls_per_eye": frame["calls"] / 2, "triangles_per_eye": frame["triangles"] / 2}


def test_vr_tabletop_teleport_pick_and_menu(page: Any, site: str) -> None:
    _enter_vr(page, site)
    xr = "window.__twin.xr"
    assert page.evaluate(f"{xr}.mode") == "tabletop"
    assert page.evaluate(f"{xr}.tabletop.table.visible")
    scale = page.evaluate("window.__twin.world.scale.x")
    assert scale == pytest.approx(1 / 500) or scale == pytest.approx(1 / 250) or scale == pytest.approx(1 / 200)
    tabletop = _per_eye(page)
    page.screenshot(path=str(_artifact("xr_tabletop.png")))

    # Jump: point at the street between way/1 and way/2 (25 m east of the origin) on the miniature.
    target = enu_world(25, 0, 0)
    page.evaluate(AIM_JS, {"from": [0.15, 1.3, -0.2], "at": target, "local": True})
    _frames(page)
    _trigger(page)
    assert page.evaluate(f"{xr}.mode") == "street"
    assert page.evaluate("window.__twin.world.scale.x") == 1
    pos = page.evaluate(f"{xr}.viewerScenePosition().toArray()")
    assert abs(pos[0] - target[0]) < 0.5 and abs(pos[2] - target[2]) < 0.5, pos
    assert 1.0 < pos[1] < 2.2, "eye height at street level"
    street = _per_eye(page)
    page.screenshot(path=str(_artifact("xr_street.png")))

    # Controller select on way/2 (its centre, 45 m east, 6 m up) opens the floating info panel.
    head = page.evaluate(f"{xr}.headPosition().toArray()")
    page.evaluate(AIM_JS, {"from": [head[0], 1.3, head[2] + 0.2], "at": enu_world(45, 0, 6), "local": True})
    _frames(page)
    _trigger(page)
    assert page.evaluate(f"{xr}.info.mesh.visible")
    assert page.evaluate(f"{xr}.info.properties.id") == "way/2"
    assert page.evaluate(f"{xr}.info.properties.address") == "Teststraße 3"

    # The menu on the left controller switches the variant.
    button = page.evaluate(f"{xr}.menu.buttonWorldPosition('variant-next').toArray()")
    page.evaluate(AIM_JS, {"from": [button[0] + 0.25, button[1] + 0.1, button[2] + 0.3], "at": button, "local": False})
    _frames(page)
    _trigger(page)
    assert page.evaluate(f"{xr}.lastPressed") == "variant-next"
    assert page.evaluate("window.__twin.state.variants.active") == "tower"
    wait_ready(page, min_models=2)
    # Menu "table-top" brings the miniature back.
    button = page.evaluate(f"{xr}.menu.buttonWorldPosition('tabletop').toArray()")
    page.evaluate(AIM_JS, {"from": [button[0] + 0.25, button[1] + 0.1, button[2] + 0.3], "at": button, "local": False})
    _frames(page)
    _trigger(page)
    assert page.evaluate(f"{xr}.mode") == "tabletop"
    assert page.errors == []

    for where, numbers in (("tabletop", tabletop), ("street", street)):
        for key, limit in BUDGET.items():
            assert numbers[key] <= limit, f"{where}: {key} {numbers[key]} over budget {limit}"
    _artifact("xr_budget.json").write_text(json.dumps({"tabletop": tabletop, "street": street}, indent=1))


def _artifact(name: str) -> Path:
    """Where screenshots and numbers go for a human to look at."""
    out = Path(__file__).resolve().parents[2] / ".pytest_cache" / "browser"
    out.mkdir(parents=True, exist_ok=True)
    return out / name
