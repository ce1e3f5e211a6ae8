"""Participation in the browser (issue 10), against the real scene server with the hand-made demo scene:
a citizen pins a concern on a known building, the moderation page approves it and it appears for another
page; voting twice from one browser counts once; the moderator hides it and it disappears; in VR (IWER) a
pin is dropped on a building by controller; with 1,000 contributions the VR frame stays within budget."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import _build_viewer
from helpers import PROJECT_JS, enu_world, look_at, serve_in_thread, wait_ready
from test_xr import AIM_JS, _frames, _per_eye, _trigger
from twin_tileset import write_scene

pytestmark = pytest.mark.browser

SCENE = "demo"
QUERY = f"/?id={SCENE}&lang=en&date=2024-06-21T14:00:00Z"
API = f"/api/scenes/{SCENE}/participation"
TEXT = "<b>Mehr Bäume</b> & a bench"
#: Per-eye VR budget of tests/browser/test_xr.py, with the pins shown.
BUDGET = {"draw_calls_per_eye": 100, "triangles_per_eye": 750_000}
PINS = "window.__twin.host.get('pins')"


@dataclass(frozen=True)
class Server:
    """The scene server with the demo scene published, and a moderator token for it."""

    base: str
    token: str
    db: Path

    def call(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        with urllib.request.urlopen(req) as r:
            return None if r.status == 204 else json.load(r)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from server import cli
    from server.app import create_app
    from server.settings import Settings

    _build_viewer()
    tmp = tmp_path_factory.mktemp("participation")
    write_scene(tmp / "build")
    (tmp / "scenes").mkdir()
    settings = Settings(data_dir=tmp / "data", scenes_dir=tmp / "scenes")
    cli.publish_folder(settings, SCENE, tmp / "build")
    token = cli.token_create(settings, "moderator", [SCENE], "lab")
    with serve_in_thread(create_app(settings)) as base:
        yield Server(base, token, settings.db_path)


def _open(page: Any, server: Server, extra: str = "&test=1") -> None:
    page.goto(server.base + QUERY + extra)
    wait_ready(page, min_models=2)
    page.locator("#pins-open").wait_for(state="visible", timeout=10_000)


def _refresh(page: Any) -> None:
    page.evaluate(f"{PINS}.refresh()")


def _items(page: Any) -> list[dict[str, Any]]:
    fields = "id, text, votes, voted, building"
    return page.evaluate(f"{PINS}.items.map(({{{fields}}}) => ({{{fields}}}))")


def test_pin_approve_vote_hide(browser: Any, server: Server) -> None:
    server.call("PUT", API, {"premoderation": True, "open": True})
    context = browser.new_context(viewport={"width": 1000, "height": 700}, locale="en-GB")
    citizen, other, moderator = context.new_page(), context.new_page(), browser.new_page()
    errors: list[str] = []
    for p in (citizen, other, moderator):
        p.on("pageerror", lambda e: errors.append(str(e)))

    # A citizen pins a concern on way/2 ("Teststraße 3") by clicking it in the view.
    _open(citizen, server)
    centre = enu_world(45, 0, 6)
    look_at(citizen, centre, (-60.0, 50.0, -60.0), min_models=2)
    citizen.click("#pins-open")
    citizen.click("#pins-add")
    x, y = citizen.evaluate(PROJECT_JS, centre)
    citizen.mouse.click(x, y)
    form = citizen.locator("#pins-form")
    form.wait_for(state="visible")
    assert "Teststraße 3" in form.inner_text()
    form.get_by_label("Concern").check()
    form.get_by_label("Your contribution").fill(TEXT)
    form.get_by_label("Name (optional)").press_sequentially("Ada 2 vc")  # typed keys do not drive the view
    assert citizen.evaluate("[window.__twin.state.mode, window.__twin.state.variants.active]") == ["orbit", "base"]
    form.get_by_role("button", name="Send").click()
    citizen.wait_for_function("document.querySelector('#pins-message').textContent.includes('after a moderator')")

    # Stored with what the citizen saw; nothing public before approval.
    queue = server.call("GET", f"{API}/moderation")
    assert len(queue) == 1
    made = queue[0]
    assert made["building"] == "way/2" and made["category"] == "concern" and made["text"] == TEXT
    assert made["status"] == "pending" and made["channel"] == "web" and made["variant"] is None
    assert made["camera"]["mode"] == "orbit" and made["time"].startswith("2024-06-21")
    assert abs(made["position"]["lon"] - 9.9567) < 0.0005, made["position"]
    _open(other, server)
    assert _items(other) == []

    # The moderation page approves it; it appears on the other page, as text (no <b> element).
    moderator.goto(server.base + f"/moderate/?scene={SCENE}")
    moderator.get_by_label("Moderator token").fill(server.token)
    moderator.get_by_role("button", name="Sign in").click()
    moderator.get_by_role("button", name=f"Approve: {TEXT[:40]}").click()
    moderator.wait_for_function("document.querySelector('#queue tbody tr.visible') !== null")
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    result = axe.run(moderator)
    assert result.violations_count == 0, result.generate_report()
    _refresh(other)
    other.wait_for_function(f"{PINS}.items.length === 1")
    other.click("#pins-open")
    item = other.locator("#pins-list li.item")
    assert item.locator(".text").inner_text() == TEXT and item.locator("b").count() == 0
    assert other.evaluate(f"{PINS}.markers.mesh.count") == 1
    # "Show" puts the camera where the citizen stood.
    item.get_by_role("button", name=f"Show: {TEXT[:40]}").click()
    gap = other.evaluate(
        f"(() => {{ const p = {PINS}; const c = window.__twin.camera.position.clone();"
        " return window.__twin.world.worldToLocal(c).distanceTo(p.toLocal(p.items[0].camera)); })()"
    )
    assert gap < 1.0, gap

    # Support twice from one browser: counted once (the button toggles; the API refuses a second vote).
    cid = made["id"]
    item.locator("button.vote").click()
    other.wait_for_function(f"{PINS}.items[0]?.votes === 1 && {PINS}.items[0].voted")
    again = other.evaluate(f"{PINS}.api.vote({json.dumps(cid)})")
    assert again == {"votes": 1, "counted": False}
    _refresh(citizen)  # another tab of the same browser: same device key
    citizen.wait_for_function(f"{PINS}.items.length === 1")
    assert _items(citizen)[0]["voted"] is True, "the same browser (device key) sees its vote"
    assert server.call("GET", f"{API}/contributions", auth=False)[0]["votes"] == 1

    # A reply, by keyboard-reachable controls; pre-moderated like the contribution.
    item.locator("button.reply-toggle").click()
    item.get_by_label("Your reply").fill("Ja, bitte!")
    item.get_by_role("button", name="Send").click()
    other.wait_for_function("document.querySelector('#pins-message').textContent.includes('after a moderator')")
    replies = [c for c in server.call("GET", f"{API}/moderation") if c["parent"] == cid]
    assert [r["text"] for r in replies] == ["Ja, bitte!"] and replies[0]["status"] == "pending"

    # axe on the open panel: no serious or critical violations.
    result = axe.run(other, context="#pins")
    serious = [v for v in result.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not serious, result.generate_report()

    # The moderator hides it with a reason: it disappears publicly.
    moderator.get_by_role("button", name=f"Hide: {TEXT[:40]}").click()
    moderator.get_by_label("Reason").fill("names a private person")
    moderator.get_by_role("button", name="Save", exact=True).click()
    moderator.wait_for_function("document.querySelector('#queue tbody tr.hidden') !== null")
    _refresh(other)
    other.wait_for_function(f"{PINS}.items.length === 0")
    assert server.call("GET", f"{API}/contributions", auth=False) == []
    assert errors == []
    context.close()
    moderator.close()


def _press_board(page: Any, button: str) -> None:
    """Aim the right controller at a board button from between the head and the board, and pull."""
    at = page.evaluate(f"{PINS}.board.buttonWorldPosition({json.dumps(button)}).toArray()")
    head = page.evaluate("window.__twin.xr.headPosition().toArray()")
    start = [a + (h - a) * 0.4 for a, h in zip(at, head, strict=True)]
    page.evaluate(AIM_JS, {"from": start, "at": at, "local": False})
    _frames(page)
    _trigger(page)


def _bulk(server: Server, n: int) -> None:
    """``n`` visible contributions spread over the scene, written straight into the database."""
    from server.participation.store import ParticipationStore
    from server.storage.connection import Connection

    store = ParticipationStore(Connection(server.db))
    for i in range(n):
        lon, lat = 9.9549 + (i % 40) * 0.00005, 53.5754 + (i // 40) * 0.00005
        values = {"category": ("idea", "concern", "question", "praise")[i % 4], "text": f"bulk {i}", "lon": lon}
        values.update(lat=lat, height=45.0, channel="web", device=f"bulk{i}")
        store.add(SCENE, values, "visible", reviewed=True)


def test_vr_pin_by_controller_and_budget_with_1000_pins(page: Any, server: Server) -> None:
    server.call("PUT", API, {"premoderation": False, "open": True})
    page.goto(server.base + QUERY + "&xr=emulate")
    wait_ready(page, min_models=2)
    page.locator("#pins-open").wait_for(state="visible", timeout=10_000)
    page.locator("#enter-vr").click()
    page.wait_for_function("window.__twin.xr.frames > 5 && window.__twin.state.lastFrame.presenting", timeout=30_000)
    xr = "window.__twin.xr"
    # Down to the street between way/1 and way/2, then select way/2 with the controller.
    page.evaluate(AIM_JS, {"from": [0.15, 1.3, -0.2], "at": enu_world(25, 0, 0), "local": True})
    _frames(page)
    _trigger(page)
    assert page.evaluate(f"{xr}.mode") == "street"
    head = page.evaluate(f"{xr}.headPosition().toArray()")
    page.evaluate(AIM_JS, {"from": [head[0], 1.3, head[2] + 0.2], "at": enu_world(45, 0, 6), "local": True})
    _frames(page)
    _trigger(page)
    assert page.evaluate(f"{PINS}.board.state") == "category"
    _press_board(page, "cat-idea")
    assert page.evaluate(f"{PINS}.board.state") == "phrase"
    assert page.evaluate(f"{xr}.mode") == "street", "a press on the board is not a pick behind it"
    _press_board(page, "phrase-3")
    page.wait_for_function(f"{PINS}.lastCreated && {PINS}.items.some((i) => i.channel === 'vr')", timeout=10_000)
    made = page.evaluate(f"{PINS}.lastCreated")
    assert made["channel"] == "vr" and made["building"] == "way/2" and made["text"] == "More green, please."
    assert made["category"] == "idea" and made["camera"]["mode"] == "street"

    # The keyboard: type two letters and send.
    page.evaluate(AIM_JS, {"from": [head[0], 1.3, head[2] + 0.2], "at": enu_world(45, 0, 8), "local": True})
    _frames(page)
    _trigger(page)
    for button in ("cat-question", "keyboard", "key-O", "key-K", "send"):
        _press_board(page, button)
    page.wait_for_function(f"{PINS}.items.some((i) => i.text === 'OK')", timeout=10_000)

    # 1,000 contributions: clustered far, a few labels near; the VR frame keeps its budget.
    _bulk(server, 1000)
    _refresh(page)
    page.wait_for_function(f"{PINS}.items.length >= 1000", timeout=20_000)
    _frames(page, 10)
    street = _per_eye(page)
    shown = page.evaluate(f"{PINS}.markers.mesh.count")
    assert 0 < shown < 1000, "far pins are clustered"
    labels = page.evaluate(f"{PINS}.markers.labels.filter((s) => s.visible).length")
    assert 0 < labels <= 8
    for key, limit in BUDGET.items():
        assert street[key] <= limit, f"street with 1,000 pins: {key} {street[key]} over budget {limit}"
    assert page.errors == []
