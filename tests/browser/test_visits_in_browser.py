"""Guided visits in three headless-Chromium pages with IWER: a host and two participants on one scene server.

The host switches the variant and both participants switch; "bring everyone here" puts them at the host's
spot (one of them in an emulated headset); a participant's avatar appears where that participant is; a page
whose connection drops comes back as the same person with the current state.
"""

from __future__ import annotations

import json
import math
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import DIST, _build_viewer
from helpers import serve_in_thread, wait_ready
from twin_tileset import write_scene

pytestmark = pytest.mark.browser
VISIT = "window.__twin.host.get('visit')"


@pytest.fixture(scope="module")
def visit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The scene server (viewer at /, WebSockets) with the demo scene published; yields (base URL, token)."""
    from server.app import create_app
    from server.cli import publish_folder, token_create
    from server.settings import Settings

    _build_viewer()
    tmp = tmp_path_factory.mktemp("visits")
    write_scene(tmp / "build")
    (tmp / "scenes").mkdir()
    settings = Settings(data_dir=tmp / "data", scenes_dir=tmp / "scenes", viewer_dir=DIST, visit_grace_seconds=30)
    publish_folder(settings, "demo", tmp / "build")
    token = token_create(settings, "planner", ["demo"], "guide")
    with serve_in_thread(create_app(settings)) as base:
        yield base, token


def open_visit(base: str, token: str) -> dict[str, Any]:
    req = urllib.request.Request(
        f"{base}/api/visits",
        data=json.dumps({"scene": "demo"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


@pytest.fixture
def pages(browser: Any) -> Iterator[list[Any]]:
    contexts = [browser.new_context(viewport={"width": 640, "height": 480}, locale="en-GB") for _ in range(3)]
    ps = []
    for c in contexts:
        p = c.new_page()
        p.errors = []
        p.on("pageerror", lambda e, p=p: p.errors.append(str(e)))
        ps.append(p)
    yield ps
    for c in contexts:
        c.close()


def joined(page: Any, url: str) -> str:
    page.goto(url)
    wait_ready(page)
    page.wait_for_function(f"{VISIT}.me !== null", timeout=20_000)
    return str(page.evaluate(f"{VISIT}.me"))


def test_host_and_two_participants_share_the_visit(visit_server: tuple[str, str], pages: list[Any]) -> None:
    base, token = visit_server
    visit = open_visit(base, token)
    host, ann, bob = pages
    common = "&xr=emulate&lang=en&date=2024-06-21T14:00:00Z"
    host_id = joined(host, f"{visit['host_url']}&name=Guide{common}")
    ann_id = joined(ann, f"{visit['join_url']}&name=Ann{common}")
    bob_id = joined(bob, f"{visit['join_url']}&name=Bob{common}")
    assert host.evaluate(f"{VISIT}.role") == "host" and ann.evaluate(f"{VISIT}.role") == "guest"
    host.wait_for_function(f"{VISIT}.people.size === 3", timeout=10_000)
    assert host.locator("#visit-host").is_visible() and not ann.locator("#visit-host").is_visible()

    # The host switches the variant with its panel: both participants' views switch.
    host.select_option("#visit-variant", "tower")
    for page in (ann, bob):
        page.wait_for_function("window.__twin.state.variants.active === 'tower'", timeout=10_000)
    assert host.evaluate("window.__twin.state.variants.active") == "tower"

    # Bob in an emulated headset; the host walks to a spot facing east and brings everyone there.
    bob.locator("#enter-vr").click()
    bob.wait_for_function("window.__twin.xr.frames > 5 && window.__twin.state.lastFrame.presenting", timeout=30_000)
    host.evaluate("window.__twin.setMode('walk')")
    host.evaluate(
        """() => { const t = window.__twin; t.camera.position.set(-20, 1.7, 10);
        t.camera.rotation.set(0, Math.PI / 2, 0); t.camera.updateMatrixWorld(); }"""
    )
    spot = host.evaluate(f"{VISIT}.hostSpot()")
    assert spot["at"][0] == pytest.approx(-20, abs=0.01) and spot["yaw"] == pytest.approx(math.pi / 2, abs=0.01)
    host.click("#visit-gather")
    ann.wait_for_function(f"{VISIT}.gathered === 1", timeout=10_000)
    where = ann.evaluate("window.__twin.camera.position.toArray()")
    assert math.dist([where[0], where[2]], [-20, 10]) < 2.5  # beside the host, in a row
    assert ann.evaluate("window.__twin.nav.mode") == "walk"
    bob.wait_for_function(f"{VISIT}.gathered === 1", timeout=10_000)
    bob.wait_for_function("window.__twin.xr.mode === 'street'", timeout=10_000)
    head = bob.evaluate("(() => { const p = window.__twin.xr.viewerScenePosition(); return [p.x, p.y, p.z]; })()")
    assert math.dist([head[0], head[2]], [-20, 10]) < 3.0

    # Ann moves: the host sees her avatar where she is (scene coordinates), and Bob in his headset too.
    ann.evaluate(
        """() => { const t = window.__twin; t.camera.position.set(15, 1.7, -5); t.camera.updateMatrixWorld(); }"""
    )
    near = f"""(() => {{ const p = {VISIT}.avatars.positionOf('{ann_id}');
        return p !== null && Math.hypot(p.x - 15, p.y - 1.7, p.z + 5) < 0.2; }})()"""
    host.wait_for_function(near, timeout=10_000)
    bob.wait_for_function(near, timeout=10_000)
    assert host.evaluate(f"{VISIT}.avatars.heads.count") >= 2  # Ann and Bob, one instanced mesh

    # Ann's connection drops; meanwhile the host changes the time of day. She comes back as herself.
    ann.evaluate(f"{VISIT}.connection.drop()")
    host.evaluate("window.__twin.setDate(new Date('2024-06-21T18:30:00Z'))")
    ann.wait_for_function(f"{VISIT}.connection.attempt === 0 && {VISIT}.status === 'open'", timeout=15_000)
    assert ann.evaluate(f"{VISIT}.me") == ann_id
    ann.wait_for_function("window.__twin.state.date.toISOString() === '2024-06-21T18:30:00.000Z'", timeout=10_000)
    assert ann.evaluate("window.__twin.state.variants.active") == "tower"
    assert {host_id, ann_id, bob_id} == set(host.evaluate(f"[...{VISIT}.people.keys()]"))
    for page in pages:
        assert page.errors == []


def test_a_spectator_screen_shows_a_participants_view(visit_server: tuple[str, str], pages: list[Any]) -> None:
    base, token = visit_server
    visit = open_visit(base, token)
    host, screen, _ = pages
    host_id = joined(host, f"{visit['host_url']}&name=Guide&lang=en&test=1")
    joined(screen, f"{visit['join_url']}&role=spectator&lang=en&test=1")
    assert screen.evaluate(f"{VISIT}.role") == "spectator"
    host.evaluate("window.__twin.setMode('walk')")
    host.evaluate("() => { const c = window.__twin.camera; c.position.set(5, 1.7, 30); c.updateMatrixWorld(); }")
    screen.wait_for_function(f"{VISIT}.poses.has('{host_id}')", timeout=10_000)
    screen.select_option("#visit-watch", host_id)
    screen.wait_for_function(
        "(() => { const c = window.__twin.camera.position; return Math.hypot(c.x - 5, c.z - 30) < 0.1; })()",
        timeout=10_000,
    )
    # The screen has no avatar for the others to see
    assert host.evaluate(f"{VISIT}.avatars.people.size") == 0
