"""The viewer in headless Chromium on desktop: loading, picking, variants, measuring, languages."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers import PROJECT_JS, canvas_pixels, enu_world, screenshot_stats, wait_ready

pytestmark = pytest.mark.browser

DEMO = "/?scene=/demo/scene.json&test=1&lang=en&date=2024-06-21T14:00:00Z"


def test_demo_scene_loads_and_draws(page: Any, site: str) -> None:
    page.goto(site + DEMO)
    wait_ready(page, min_models=2)
    frame = page.evaluate("window.__twin.state.lastFrame")
    assert frame["triangles"] >= 9 * 12  # nine box buildings at least, plus ground
    assert 0 < frame["calls"] < 100
    info = page.evaluate("window.__twin.tilesInfo()")
    assert info[0]["errors"] == []
    colours, spread = screenshot_stats(page)
    assert colours > 50 and spread > 5, "screenshot looks blank"
    page.screenshot(path=str(site_artifact("demo.png")))
    attribution = page.locator("#attribution").inner_text()
    assert "OpenStreetMap contributors" in attribution and "Test buildings" in attribution
    assert page.locator("#attribution").is_visible()
    assert page.errors == []


def test_click_building_shows_attributes(page: Any, site: str) -> None:
    page.goto(site + DEMO)
    wait_ready(page, min_models=2)
    # Roof centre of way/1 ("Rathaus", 18 m high, at the origin).
    x, y = page.evaluate(PROJECT_JS, enu_world(0, 0, 17.9))
    page.mouse.click(x, y)
    info = page.locator("#info")
    info.wait_for(state="visible", timeout=5000)
    text = info.inner_text()
    assert "Rathaus" in text and "Teststraße 1" in text and "way/1" in text
    assert "18 m" in text and "civic" in text
    # The picked building is highlighted: its highlight uniform holds its feature id.
    assert page.evaluate("window.__twin.picker.selected.highlight.value") == page.evaluate(
        "window.__twin.picker.selected.featureId"
    )
    page.keyboard.press("Escape")
    assert info.is_hidden()


def test_switching_variant_changes_what_is_drawn(page: Any, site: str) -> None:
    page.goto(site + DEMO)
    wait_ready(page, min_models=2)
    # Where the variant's 60 m tower stands (45 m east), 40 m up: sky or background in the base.
    tower_point = enu_world(45, 0, 40)
    pick = (
        "(p) => { const [x, y] = (" + PROJECT_JS + ")(p); const h = window.__twin.pickScreen(x, y);"
        " return h ? window.__twin.picker.select(h).properties.id : null; }"
    )
    assert page.evaluate(pick, tower_point) != "design/tower"
    before = canvas_pixels(page)
    page.select_option("#variant", "tower")
    wait_ready(page, min_models=2)
    assert page.evaluate("window.__twin.state.variants.active") == "tower"
    assert page.evaluate(pick, tower_point) == "design/tower"
    after = canvas_pixels(page)
    assert np.mean(np.any(before != after, axis=2)) > 0.002, "the drawing did not change"
    metrics = page.locator("#metrics").inner_text()
    assert "+2,504" in metrics
    # Swipe view draws both tilesets: two renders per frame.
    single_calls = page.evaluate("window.__twin.state.lastFrame.calls")
    page.check("#swipe")
    wait_ready(page, min_models=2)
    assert page.evaluate("window.__twin.state.lastFrame.calls") > single_calls
    page.screenshot(path=str(site_artifact("swipe.png")))
    # A/B toggle goes back to the existing state.
    page.click("#compare-toggle")
    assert page.evaluate("window.__twin.state.variants.active") == "base"
    assert page.errors == []


def test_measure_distance_and_height(page: Any, site: str) -> None:
    page.goto(site + DEMO)
    wait_ready(page, min_models=2)
    page.keyboard.press("3")
    for point in (enu_world(0, 0, 17.9), enu_world(0, -45, 20.9)):  # roofs of way/1 and way/5
        x, y = page.evaluate(PROJECT_JS, point)
        page.mouse.click(x, y)
    result = page.evaluate("window.__twin.measure.result")
    assert result["height"] == pytest.approx(3, abs=0.2)
    assert result["horizontal"] == pytest.approx(45, abs=2)
    assert "Height: 3" in page.locator("#measure-result").inner_text()


def test_language_follows_browser_and_switches(browser: Any, site: str) -> None:
    context = browser.new_context(viewport={"width": 800, "height": 600}, locale="de-DE")
    page = context.new_page()
    page.goto(site + "/?scene=/demo/scene.json&test=1")
    page.wait_for_function("window.__twin !== undefined")
    assert page.locator("#compare-toggle").inner_text() == "A/B umschalten"
    assert page.locator("#info-close").get_attribute("aria-label") == "Schließen"
    page.select_option("#lang", "en")
    assert page.locator("#compare-toggle").inner_text() == "Toggle A/B"
    assert page.evaluate("document.documentElement.lang") == "en"
    context.close()


@pytest.mark.parametrize(
    ("folder", "min_models"),
    [("SparseImplicitQuadtree", 1), ("TilesetWithRequestVolume_city", 1), ("MetadataGranularities_houses", 4)],
)
def test_sample_tilesets_load_without_errors(page: Any, site: str, folder: str, min_models: int) -> None:
    page.goto(f"{site}/?tileset=/fixtures/{folder}/tileset.json&test=1&date=2024-06-21T14:00:00Z")
    wait_ready(page, min_models=min_models)
    info = page.evaluate("window.__twin.tilesInfo()")[0]
    assert info["errors"] == []
    assert info["meshes"] > 0
    colours, spread = screenshot_stats(page)
    assert colours > 20 and spread > 2
    page.screenshot(path=str(site_artifact(f"{folder}.png")))
    assert page.errors == []


def site_artifact(name: str) -> Any:
    """Where screenshots go for a human to look at (not asserted on)."""
    from pathlib import Path

    out = Path(__file__).resolve().parents[2] / ".pytest_cache" / "browser"
    out.mkdir(parents=True, exist_ok=True)
    return out / name
