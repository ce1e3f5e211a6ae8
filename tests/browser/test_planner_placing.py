"""Placing a design on the planner page (issue 12) in headless Chromium, with the real builder: find an
address, click a building to see it, put the house on a building by a click (anchored by its footprint's
centre, drawn with its real footprint), keep the building it would remove, build, and check that the built
design stands where the click put it and the building stayed.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from planner_fixtures import HOUSE, SCENE_ID, PlannerServer
from test_planner import message, planner, server, sign_in  # noqa: F401 - fixtures, shared with the page test

pytestmark = pytest.mark.browser

PLANNER = f"/api/planner/scenes/{SCENE_ID}"
#: Osterstraße 176 (the house goes on it) and Müggenkampstraße 3 (clicked to be shown): ids, centroids.
TARGET = ("way/55442961", 9.9462806, 53.579411)
OTHER = ("way/78235119", 9.9452258, 53.5794028)
M_PER_DEG = math.pi / 180 * 6371008.8  # as server/static/planner/geo.js


def click_at(page: Any, lon: float, lat: float) -> None:
    """Click the map where lon/lat is drawn."""
    x, y = page.evaluate("([lon, lat]) => window.__planner.map.screenOf(lon, lat)", [lon, lat])
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def map_info(page: Any, contains: str) -> str:
    page.wait_for_function("(s) => document.getElementById('map-info').textContent.includes(s)", arg=contains)
    return str(page.locator("#map-info").text_content())


def overlap_row(page: Any, bid: str, state: str, last: str = "") -> list[str]:
    """Wait until the overlaps table says ``state`` for building ``bid`` (and its last build's column starts
    with ``last``); its cells' texts."""
    page.wait_for_function(
        """([id, state, last]) => [...document.querySelectorAll('#overlaps tbody tr')].some(
          (r) => r.cells[0].textContent === id && r.cells[3].textContent === state
            && r.cells[4].textContent.startsWith(last))""",
        arg=[bid, state, last],
    )
    row = page.locator("#overlaps tbody tr", has_text=bid)
    return [str(t) for t in row.locator("td").all_text_contents()]


def test_find_show_place_by_centre_keep_and_build(planner: Any, server: PlannerServer) -> None:  # noqa: F811
    page = planner
    sign_in(page, server.token)
    message(page, "Signed in")
    page.get_by_role("button", name="Start build").click()
    first = message(page, "succeeded", timeout=60_000).split()[1]
    page.wait_for_function("window.__planner.map.drawn.buildings > 100 && window.__planner.map.drawn.streets > 5")
    page.get_by_label("Design file", exact=True).set_input_files(str(HOUSE))
    page.get_by_role("button", name="Upload", exact=True).click()
    message(page, "Uploaded pmndrs_house-5.glb")

    # Find an address: the map centres on the building and highlights it; the street names are drawn.
    search = page.get_by_label("Find an address or building id")
    search.fill(OTHER[0])  # by id
    search.press("Enter")
    map_info(page, OTHER[0])
    search.fill("osterstrasse 176")  # case and ß do not matter
    search.press("Enter")
    assert map_info(page, TARGET[0]) == f"{TARGET[0]}: Osterstraße 176, 20255 Hamburg"
    drawn = page.evaluate("window.__planner.map.drawn")
    assert drawn["highlight"] == TARGET[0] and drawn["houseNumbers"] >= 10, drawn  # house numbers, zoomed in
    page.locator("#map").focus()
    for _ in range(3):
        page.keyboard.press("-")  # zoom out to see the streets around
    page.wait_for_function("window.__planner.map.drawn.streetNames.length >= 2")
    names = page.evaluate("window.__planner.map.drawn.streetNames")
    assert {"Schopstraße", "Rombergstraße"} <= set(names), names  # the scene's streets, named
    view = page.evaluate("window.__planner.map.view")
    assert math.hypot((view["lon"] - TARGET[1]) * 0.6, view["lat"] - TARGET[2]) * M_PER_DEG < 10

    # In "show" mode a click shows the building under it.
    page.get_by_label("A click on the map").select_option("show")
    click_at(page, OTHER[1], OTHER[2])
    assert map_info(page, OTHER[0]) == f"{OTHER[0]}: Müggenkampstraße 3, 20257 Hamburg"
    page.get_by_label("A click on the map").select_option("place")

    # Click-to-place: the footprint's centre goes where the click was; the real footprint is drawn.
    assert page.get_by_label("Position of").input_value() == "centre"
    page.get_by_label("Variant id").fill("proposal")
    page.get_by_label("Design id").fill("house")
    page.get_by_label("Design title").fill("House")
    click_at(page, TARGET[1], TARGET[2])
    message(page, "footprint's centre at")
    lon, lat = (
        float(page.get_by_label("Longitude °").input_value()),
        float(page.get_by_label("Latitude °").input_value()),
    )
    assert math.hypot((lon - TARGET[1]) * 0.6, lat - TARGET[2]) * M_PER_DEG < 1  # where the click was
    _, (upload,) = server.get_json(f"{PLANNER}/uploads", server.token)
    vertices = sum(len(r) for r in upload["info"]["footprint"])
    assert vertices > 8 and page.evaluate("window.__planner.map.drawn.designVertices") == vertices
    centre = page.evaluate("window.__planner.map.designCentre()")
    assert (round(centre["lon"], 7), round(centre["lat"], 7)) == (lon, lat)
    assert map_info(page, "Put on") == f"Put on {TARGET[0]}: Osterstraße 176, 20255 Hamburg."
    # Anchoring by the origin instead moves the numbers (the origin is 14 m away), not the design; and back.
    page.get_by_label("Position of").select_option("origin")
    origin = page.evaluate("window.__planner.map.originLonLat()")
    moved = float(page.get_by_label("Longitude °").input_value()), float(page.get_by_label("Latitude °").input_value())
    assert moved == (round(origin["lon"], 7), round(origin["lat"], 7)) and moved != (lon, lat)
    still = page.evaluate("window.__planner.map.designCentre()")
    assert math.hypot(still["lon"] - lon, still["lat"] - lat) < 2e-7
    page.get_by_label("Position of").select_option("centre")
    back = float(page.get_by_label("Longitude °").input_value()), float(page.get_by_label("Latitude °").input_value())
    assert math.hypot(back[0] - lon, back[1] - lat) < 2e-7

    # The placement would remove Osterstraße 176: keep it.
    cells = overlap_row(page, TARGET[0], "removed")
    assert cells[1] == "Osterstraße 176, 20255 Hamburg" and int(cells[2].split()[0]) >= 50, cells
    page.get_by_label(f"Keep or remove {TARGET[0]}").select_option("keep")
    overlap_row(page, TARGET[0], "stays")
    page.get_by_role("button", name="Place design").click()
    message(page, "Placed house in variant proposal")
    _, variant = server.get_json(f"{PLANNER}/variants/proposal", server.token)
    (design,) = variant["designs"]
    assert design["keep"] == [TARGET[0]] and design["anchor"]["point"] == "centre"

    # Build: the design's footprint centre stands at the clicked point, the kept building stayed.
    page.get_by_role("button", name="Start build").click()
    text = message(page, "succeeded", timeout=60_000)
    build = text.split()[1]
    scene = page.request.get(f"{server.base}/preview/{SCENE_ID}/{build}/scene.json").json()
    (built,) = scene["variants"]
    at = built["designs"][0]["placement"]["footprint_centre"]
    assert math.hypot((at["lon"] - lon) * math.cos(math.radians(lat)), at["lat"] - lat) * M_PER_DEG < 0.05
    assert TARGET[0] not in built["removed"] and TARGET[0] in {p["id"] for p in built["partial"]}
    page.wait_for_function("document.getElementById('design-report').textContent.includes('as built by build')")
    assert "(its footprint's centre)" in str(page.locator("#design-report").text_content())
    cells = overlap_row(page, TARGET[0], "stays", last="stayed")
    assert cells[4] == f"stayed ({cells[2]})", cells
    page.wait_for_function("window.__planner.map.drawn.built")
    assert page.evaluate("window.__planner.map.builtOutline.length") == len(upload["info"]["footprint"])

    # Publishing the older build asks first; saying no publishes nothing.
    asked: list[Any] = []

    def answer(dialog: Any) -> None:
        asked.append((dialog.type, dialog.message))
        dialog.dismiss()

    page.once("dialog", answer)
    page.get_by_role("button", name=f"Publish build {first}").click()
    page.wait_for_timeout(300)
    assert asked == [("confirm", f"Build {first} is older than build {build}. Publish it anyway?")], asked
    assert server.get_json(f"/api/scenes/{SCENE_ID}")[0] == 404  # nothing was published
