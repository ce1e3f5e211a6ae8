"""The procedural facade in headless Chromium on the builder's real tiles: the shader compiles, the city
tiles' (``tiles:*`` groups) materials carry the facade uniforms and attributes, and at street level the
windows change what is drawn (facades on against off). ``TWIN_STREET_SCREENSHOT=<path>`` keeps the
street-level screenshot.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from helpers import LOOK_JS, canvas_pixels, enu_world, wait_ready
from PIL import Image
from real_scene import SCENE_ID, RealScene

pytestmark = pytest.mark.browser

#: What the facade patch put on the loaded tiles, and what WebGL made of the programs.
FACADE_JS = """() => {
  const t = window.__twin;
  const out = {meshes: 0, facade: 0, attrs: 0, uniforms: 0, programs: [], classes: [], others: 0};
  const city = (o) => { for (let n = o; n; n = n.parent) if (n.name.startsWith('tiles:')) return true; return false; };
  t.scene.traverse((o) => {
    if (!o.isMesh) return;
    if (!city(o)) {  // context layers, pins, avatars: no facade
      if (o.material?.userData?.facade) out.others++;
      return;
    }
    out.meshes++;
    const m = Array.isArray(o.material) ? o.material[0] : o.material;
    if (m.userData.facade) out.facade++;
    if (m.userData.facade?.facadeStyles?.value?.length === 6) out.uniforms++;
    const f = o.geometry.getAttribute('facade');
    if (f && o.geometry.getAttribute('uv') && f.count === o.geometry.getAttribute('position').count) {
      out.attrs++;
      for (let i = 0; i < f.count; i += 97) out.classes.push(f.array[2 * i]);
    }
  });
  for (const p of t.renderer.info.programs) {
    if (p.cacheKey.includes('twin-facade')) out.programs.push({ok: !p.diagnostics || p.diagnostics.runnable});
  }
  return out;
}"""


@pytest.fixture(scope="module")
def street(browser: Any, real_scene: RealScene) -> Iterator[Any]:
    """A desktop page on the real scene, console errors collected."""
    context = browser.new_context(viewport={"width": 900, "height": 600}, locale="en-GB")
    page = context.new_page()
    page.errors = []
    page.console_errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type in ("error", "warning") else None)
    page.goto(f"{real_scene.base}/?id={SCENE_ID}&lang=en&date=2024-06-21T11:00:00Z&test=1")
    wait_ready(page)
    yield page
    context.close()


def test_city_tiles_get_the_facade_material_and_it_compiles(street: Any) -> None:
    info = street.evaluate(FACADE_JS)
    assert info["meshes"] >= 1
    assert info["facade"] == info["meshes"] == info["attrs"] == info["uniforms"]
    assert info["others"] == 0
    assert info["programs"] and all(p["ok"] for p in info["programs"])
    # The Eimsbüttel cut is mostly apartments (residential, class 0) with industry and shops among them.
    assert 0 in info["classes"] and len(set(info["classes"])) >= 2
    # SwiftShader's "GPU stall due to ReadPixels" performance notes are not errors; shader and GL errors are.
    webgl = [
        m for m in street.console_errors if ("WebGL" in m or "Shader" in m or "THREE" in m) and "Performance" not in m
    ]
    assert webgl == [] and street.errors == []


def _frame(page: Any) -> np.ndarray:
    frames = page.evaluate("window.__twin.state.frames")
    page.wait_for_function(f"window.__twin.state.frames > {frames + 2}")
    return canvas_pixels(page).astype(np.int16)


def test_street_level_shows_windows(street: Any, real_scene: RealScene) -> None:
    # Stand on the street 30 m south of the tallest block of flats, eyes at 1.8 m, looking at its facade.
    flats = [b for b in real_scene.buildings.values() if b.get("usage") == "apartments"]
    tallest = max(flats, key=lambda b: b["height"])
    east, north = real_scene.building_enu(tallest["id"])
    street.evaluate(LOOK_JS, [enu_world(east, north - 8.0, 1.2), [0.0, 0.6, -30.0]])
    wait_ready(street)
    on = _frame(street)
    street.evaluate(
        "() => { window.__twin.scene.traverse((o) => { const f = o.material?.userData?.facade;"
        " if (f) f.facadeOn.value = 0; }); }"
    )
    off = _frame(street)
    street.evaluate(
        "() => { window.__twin.scene.traverse((o) => { const f = o.material?.userData?.facade;"
        " if (f) f.facadeOn.value = 1; }); }"
    )
    changed = np.abs(on - off).max(axis=2) > 24
    # Windows cover a fair share of the walls in view, and they are darker than the plain wall.
    assert changed.mean() > 0.02, changed.mean()
    assert on[changed].mean() < off[changed].mean()
    target = os.environ.get("TWIN_STREET_SCREENSHOT")
    if target:
        Image.open(io.BytesIO(street.screenshot())).save(target)
