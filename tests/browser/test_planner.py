"""The planner page (server/static/planner) in headless Chromium against a real scene server and the real
builder: sign in with a token, upload a design with visible progress, place it by numbers, build, follow
the build, preview it, publish it, and move and turn it on the placement map by mouse and keyboard.
Bad input (a wrong token, a file that is no design) shows a clear error on the page.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from planner_fixtures import HOUSE, PLOT, SCENE_ID, PlannerServer, planner_server

pytestmark = pytest.mark.browser

M_PER_DEG = math.pi / 180 * 6371008.8  # as server/static/planner/geo.js
PLANNER = f"/api/planner/scenes/{SCENE_ID}"

#: Record every value the upload progress bar takes (the page sets .value, which sets the attribute).
WATCH_PROGRESS_JS = """() => {
  window.__progress = [];
  const bar = document.getElementById('upload-progress');
  new MutationObserver(() => window.__progress.push(bar.value)).observe(bar, {attributes: true});
}"""

#: The design footprint as the page draws it and as the last build placed it, metres around the anchor.
FOOTPRINTS_JS = """(mPerDeg) => {
  const m = window.__planner.map;
  const k = Math.cos(m.anchor.lat * Math.PI / 180) * mPerDeg;
  const metres = ([lon, lat]) => [(lon - m.anchor.lon) * k, (lat - m.anchor.lat) * mPerDeg];
  const [ax, ay] = m.screenOf(m.anchor.lon, m.anchor.lat);
  const drawn = m.designScreen().map(([x, y]) => [(x - ax) * m.view.mpp, (ay - y) * m.view.mpp]);
  return {drawn, built: m.built.map(metres)};
}"""


#: The middle of the design's footprint (its pivot): lon/lat and screen pixels in the canvas.
CENTRE_JS = """() => {
  const m = window.__planner.map;
  const c = m.designCentre();
  const [x, y] = m.screenOf(c.lon, c.lat);
  return {lon: c.lon, lat: c.lat, x, y};
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlannerServer]:
    with planner_server(tmp_path_factory.mktemp("planner")) as s:
        yield s


@pytest.fixture
def planner(browser: Any, server: PlannerServer) -> Iterator[Any]:
    """The planner page in a fresh browser context (empty sessionStorage), failing on page errors."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # Console errors count too, except the browser's own line for each refused request (4xx by design).
    page.on("console", lambda m: m.type == "error" and "Failed to load" not in m.text and errors.append(m.text))
    page.goto(server.base + "/planner")
    yield page
    context.close()
    assert not errors, errors


def sign_in(page: Any, token: str) -> None:
    """Type the token and press Enter (the form works from the keyboard)."""
    page.get_by_label("Planner token").fill(token)
    page.get_by_label("Planner token").press("Enter")


def message(page: Any, contains: str, timeout: float = 10_000) -> str:
    """Wait until the status line contains ``contains``; its text."""
    page.wait_for_function(
        "(s) => document.getElementById('message').textContent.includes(s)", arg=contains, timeout=timeout
    )
    return str(page.locator("#message").text_content())


def field(page: Any, label: str) -> float:
    return float(page.get_by_label(label).input_value())


def test_bad_token_and_bad_files_show_clear_errors(planner: Any, server: PlannerServer) -> None:
    page = planner
    sign_in(page, "twin_not-a-token")
    text = message(page, "Sign-in failed")
    assert "token" in text.lower() and page.locator("#message.error").count() == 1
    assert page.locator("#work").is_hidden()

    sign_in(page, server.token)
    message(page, "Signed in")
    for name, content, reason in [
        ("notes.glb", b"these are meeting notes, not a building", "unknown design format"),
        ("house.glb", HOUSE.read_bytes()[:5000], "truncated GLB"),
    ]:
        page.get_by_label("Design file", exact=True).set_input_files(
            {"name": name, "mimeType": "model/gltf-binary", "buffer": content}
        )
        page.get_by_role("button", name="Upload", exact=True).click()
        text = message(page, f"Upload of {name} refused")
        assert reason in text, text
        assert page.locator("#message").get_attribute("role") == "alert"
        assert page.locator("#message.error").count() == 1
    # Nothing was stored by the refused uploads.
    status, uploads = server.get_json(f"{PLANNER}/uploads", server.token)
    assert status == 200 and uploads == []
    # A new upload clears the previous error at once (issue 12).
    page.get_by_label("Design file", exact=True).set_input_files(str(HOUSE))
    page.get_by_role("button", name="Upload", exact=True).click()
    message(page, "Uploaded pmndrs_house-5.glb")
    assert page.locator("#message.error").count() == 0
    # Leave the scene as found for the next test.
    _, (up,) = server.get_json(f"{PLANNER}/uploads", server.token)
    r = page.request.delete(
        f"{server.base}{PLANNER}/uploads/{up['id']}", headers={"Authorization": f"Bearer {server.token}"}
    )
    assert r.status == 204, r.text()


def test_upload_place_build_preview_publish_and_move_on_the_map(
    planner: Any, server: PlannerServer, browser: Any
) -> None:
    page = planner
    sign_in(page, server.token)
    message(page, "Signed in")
    # The scene was never built: no buildings on the map, and nothing public.
    assert server.get_json(f"/api/scenes/{SCENE_ID}")[0] == 404

    # 1. Upload over a slow link (100 kB/s) so that the progress bar has something to show.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 100_000},
    )
    page.evaluate(WATCH_PROGRESS_JS)
    page.get_by_label("Design file", exact=True).set_input_files(str(HOUSE))
    page.get_by_role("button", name="Upload", exact=True).click()
    message(page, "Uploaded pmndrs_house-5.glb: glb, 688 triangles")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    progress = page.evaluate("window.__progress")
    assert any(0 < v < 1 for v in progress), progress  # seen part-way
    assert progress[-1] == 1 and page.locator("#upload-text").text_content() == "63 kB uploaded"
    assert page.locator("#uploads tbody tr").count() == 1
    assert "13.0 × 7.5 × 9.0 m" in str(page.locator("#uploads tbody").text_content())

    # 2. Place it by numbers, typed, and submitted with Enter from the last field.
    page.get_by_label("Variant id").fill("proposal")
    page.get_by_label("Variant title").fill("House in the yard")
    page.get_by_label("Design id").fill("house")
    page.get_by_label("Design title").fill("House (glTF)")
    page.get_by_label("Position of").select_option("origin")  # test_planner_placing.py anchors by the centre
    page.get_by_label("Longitude °").fill(str(PLOT[0]))
    page.get_by_label("Latitude °").fill(str(PLOT[1]))
    page.get_by_label("Heading °").fill("30")
    page.get_by_label("Heading °").press("Enter")
    message(page, "Placed house in variant proposal")
    status, variant = server.get_json(f"{PLANNER}/variants/proposal", server.token)
    assert status == 200 and variant["title"] == "House in the yard"
    anchor = variant["designs"][0]["anchor"]
    assert (anchor["lon"], anchor["lat"], anchor["heading"], anchor["datum"]) == (*PLOT, 30.0, "ground")
    assert page.evaluate("window.__planner.map.drawn.design")  # drawn from the numbers before any build

    # 3. Build and follow it to the end.
    page.get_by_role("button", name="Start build").click()
    text = message(page, "succeeded", timeout=60_000)
    build_id = text.split()[1]
    assert page.locator("#build-progress").evaluate("b => b.value") == 1
    assert "stage done" in str(page.locator("#build-log").text_content())
    assert "succeeded" in str(page.locator("#build-state").text_content())
    # The page shows the design's metrics, the variant's deltas and the placement, in the planner's names.
    page.wait_for_function("document.getElementById('design-report').textContent.includes('as built by build')")
    report = str(page.locator("#design-report").text_content())
    assert "(pmndrs_house-5.glb)" in report and "design.glb" not in report, report
    assert "gross floor area" in report and "The variant removes" in report and "Placed by the anchor" in report

    # The map now shows the build's footprints and, dashed, where the builder put the design: the
    # page's own footprint (from the upload's bounds, heading 30°) lies on the builder's to 0.3 m.
    page.wait_for_function("window.__planner.map.drawn.buildings > 100 && window.__planner.map.drawn.built")
    prints = page.evaluate(FOOTPRINTS_JS, M_PER_DEG)
    for (dx, dy), (bx, by) in zip(prints["drawn"], prints["built"], strict=True):
        assert math.hypot(dx - bx, dy - by) < 0.3, prints

    # 4. Preview: the link opens the viewer on the draft build, whose scene.json has the variant.
    with page.expect_popup() as popup_info:
        page.get_by_role("link", name=f"Preview build {build_id} in the viewer (opens a new tab)").click()
    popup = popup_info.value
    query = parse_qs(urlsplit(popup.url).query)
    popup.close()
    assert "preview" not in query and "scene" not in query  # the draft's URL stays out of the query string
    scene_url = parse_qs(urlsplit(popup.url).fragment)["preview"][0]
    assert query["variant"] == ["proposal"]  # the viewer opens on the variant, not the existing state
    preview = page.request.get(scene_url).json()
    assert [v["id"] for v in preview["variants"]] == ["proposal"]
    placed = preview["variants"][0]["designs"][0]["placement"]["origin"]
    assert (round(placed["lon"], 7), round(placed["lat"], 7)) == PLOT
    variant_tileset = page.request.get(scene_url.replace("scene.json", "variants/proposal/tileset.json"))
    assert variant_tileset.ok and variant_tileset.json()["asset"]["version"] == "1.1"
    assert server.get_json(f"/api/scenes/{SCENE_ID}")[0] == 404  # still a draft

    # 5. Publish; the public API now has the scene with the variant and its design.
    page.get_by_role("button", name=f"Publish build {build_id}").click()
    message(page, f"Published build {build_id}")
    status, public = server.get_json(f"/api/scenes/{SCENE_ID}")
    assert status == 200, public
    assert [(v["id"], [d["id"] for d in v["designs"]]) for v in public["variants"]] == [("proposal", ["house"])]
    assert "published" in str(page.locator("#builds tbody").text_content())

    # 6. Move the design on the map: drag it 60 px right and 40 px up.
    page.locator("#map").scroll_into_view_if_needed()
    canvas = page.locator("#map").bounding_box()
    mpp = page.evaluate("window.__planner.map.view.mpp")
    corners = page.evaluate("window.__planner.map.designScreen()")
    cx = canvas["x"] + sum(x for x, _ in corners) / 4
    cy = canvas["y"] + sum(y for _, y in corners) / 4
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 30, cy - 20, steps=3)
    page.mouse.move(cx + 60, cy - 40, steps=3)
    page.mouse.up()
    lon, lat = field(page, "Longitude °"), field(page, "Latitude °")
    east = (lon - PLOT[0]) * M_PER_DEG * math.cos(math.radians(PLOT[1]))
    north = (lat - PLOT[1]) * M_PER_DEG
    assert east == pytest.approx(60 * mpp, abs=0.02) and north == pytest.approx(40 * mpp, abs=0.02)
    assert field(page, "Heading °") == 30
    assert "not saved yet" in str(page.locator("#map-state").text_content())

    # Turn it: drag the round handle 60° clockwise around the middle of the footprint (30° -> 90°);
    # the middle stays put, the anchor swings around it.
    pivot = page.evaluate(CENTRE_JS)
    hx, hy = page.evaluate("window.__planner.map.handleScreen()")
    radius = math.hypot(hx - pivot["x"], hy - pivot["y"])
    page.mouse.move(canvas["x"] + hx, canvas["y"] + hy)
    page.mouse.down()
    for deg in range(40, 100, 10):  # screen angle of the handle from north, clockwise
        x = pivot["x"] + radius * math.sin(math.radians(deg))
        y = pivot["y"] - radius * math.cos(math.radians(deg))
        page.mouse.move(canvas["x"] + x, canvas["y"] + y, steps=2)
    page.mouse.up()
    assert field(page, "Heading °") == pytest.approx(90, abs=0.2)
    after = page.evaluate(CENTRE_JS)
    assert after["lon"] == pytest.approx(pivot["lon"], abs=2e-7)  # 2e-7° is about 1 cm
    assert after["lat"] == pytest.approx(pivot["lat"], abs=2e-7)
    lon, lat = field(page, "Longitude °"), field(page, "Latitude °")

    # And from the keyboard: Up moves 1 m north, ] turns 5°; then save with the button, by keyboard.
    page.locator("#map").focus()
    page.keyboard.press("ArrowUp")
    assert (field(page, "Latitude °") - lat) * M_PER_DEG == pytest.approx(1.0, abs=0.01)
    assert field(page, "Longitude °") == lon
    page.keyboard.press("]")
    assert field(page, "Heading °") == pytest.approx(95, abs=0.1)
    page.get_by_role("button", name="Place design").focus()
    page.keyboard.press("Enter")
    message(page, "Placed house in variant proposal")
    saved = server.get_json(f"{PLANNER}/variants/proposal", server.token)[1]["designs"][0]["anchor"]
    assert (saved["lon"], saved["lat"], saved["heading"]) == (
        field(page, "Longitude °"),
        field(page, "Latitude °"),
        field(page, "Heading °"),
    )


def test_accessible_and_keyboard_usable(planner: Any, server: PlannerServer) -> None:
    """axe-core finds no violations (signed out, and signed in with the tables filled by the test above),
    and Tab reaches every control of the workflow in page order."""
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    page = planner
    assert axe.run(page).violations_count == 0, axe.run(page).generate_report()
    sign_in(page, server.token)
    message(page, "Signed in")
    page.wait_for_function("window.__planner.map.drawn.buildings > 0")
    result = axe.run(page)
    assert result.violations_count == 0, result.generate_report()

    page.get_by_label("Planner token").focus()
    reached: list[str] = []
    for _ in range(80):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
    wanted = ["sign-in", "scene", "file", "upload", "variant-id", "save-variant", "design-upload", "lon", "heading"]
    wanted += ["map", "place", "build", "Preview"]
    order = [reached.index(w) for w in wanted]  # ValueError names a control that Tab never reached
    assert order == sorted(order), list(zip(wanted, order, strict=True))


def test_planner_page_is_served(server: PlannerServer) -> None:
    """/planner redirects to the page, which loads its modules (no build step)."""
    import urllib.request

    with urllib.request.urlopen(server.base + "/planner") as r:
        assert r.url.endswith("/planner/") and b'<script type="module" src="planner.js">' in r.read()
    for name in ("planner.js", "map.js", "geo.js", "planner.css"):
        with urllib.request.urlopen(f"{server.base}/planner/{name}") as r:
            assert r.status == 200 and len(r.read()) > 100
