"""Participation API: create and validate, votes, replies, moderation, phase, exports, OGC, privacy, floods."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import BOTH, Env, tables

from server import cli
from server.participation import Limits, service
from server.participation.ratelimit import Buckets, Rate
from server.storage import Connection

#: Every test here runs on SQLite and on PostgreSQL (tests/server/conftest.py).
DATABASES = BOTH


BASE = "/api/scenes/demo/participation"
ALICE = {"X-Device-Key": "alice-device-key-0001"}
BOB = {"X-Device-Key": "bob-device-key-000002"}


def pin(**kw: Any) -> dict[str, Any]:
    """A valid contribution body on building way/0 of the hand-made scene (bounds 9.95..9.99, 53.56..53.58)."""
    body: dict[str, Any] = {
        "category": "idea",
        "text": "More trees here, please.",
        "position": {"lon": 9.9605, "lat": 53.5705, "height": 61.5},
        "building": "way/0",
        "camera": {"lon": 9.959, "lat": 53.569, "height": 120.0, "heading": 45, "pitch": -30, "fov": 50},
        "time": "2026-06-21T15:30:00+02:00",
    }
    body.update(kw)
    return body


@pytest.fixture
def mod(env: Env) -> dict[str, str]:
    return {"Authorization": "Bearer " + cli.token_create(env.settings, "moderator", ["demo"], "mo")}


def post(env: Env, body: dict[str, Any] | None = None, headers: dict[str, str] = ALICE) -> Any:
    return env.client.post(f"{BASE}/contributions", json=body or pin(), headers=headers)


def test_create_list_and_what_was_seen(env: Env) -> None:
    r = post(env)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["status"] == "visible" and made["channel"] == "web" and made["building"] == "way/0"
    assert made["camera"]["heading"] == 45 and made["time"].startswith("2026-06-21T15:30")
    assert made["position"] == {"lon": 9.9605, "lat": 53.5705, "height": 61.5}
    listed = env.client.get(f"{BASE}/contributions").json()
    assert [c["id"] for c in listed] == [made["id"]]
    assert "device" not in listed[0]
    post(env, pin(category="concern", variant="proposal", channel="vr"), BOB)
    assert len(env.client.get(f"{BASE}/contributions", params={"variant": "proposal"}).json()) == 1
    existing = env.client.get(f"{BASE}/contributions", params={"variant": "existing"}).json()
    assert [c["id"] for c in existing] == [made["id"]]
    vr = env.client.get(f"{BASE}/contributions", params={"category": "concern"}).json()
    assert vr[0]["channel"] == "vr"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"text": ""}, 422),
        ({"text": "   \n "}, 422),
        ({"text": "x" * 2001}, 422),
        ({"text": "bad\x00byte"}, 422),
        ({"category": "rant"}, 422),
        ({"position": {"lon": 10.5, "lat": 53.57, "height": 0}}, 422),
        ({"position": {"lon": 9.96, "lat": 91, "height": 0}}, 422),
        ({"variant": "nope"}, 422),
        ({"variant": "../x"}, 422),
        ({"channel": "analogue"}, 422),
        ({"extra": 1}, 422),
        ({"name": "n" * 81}, 422),
        ({"time": "yesterday"}, 422),
    ],
)
def test_bad_input_is_4xx_and_stores_nothing(env: Env, change: dict[str, Any], status: int) -> None:
    r = post(env, pin(**change))
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert env.client.get(f"{BASE}/contributions").json() == []


def test_device_key_required_and_checked(env: Env) -> None:
    assert post(env, headers={}).status_code == 422
    assert post(env, headers={"X-Device-Key": "short"}).status_code == 422
    assert post(env, headers={"X-Device-Key": "<script>alert(1)</script>xxxxx"}).status_code == 422
    assert env.client.get("/api/scenes/nope/participation/contributions").status_code == 404


def test_html_is_kept_as_text(env: Env) -> None:
    text = '<img src=x onerror="alert(1)"> & <b>bold</b>'
    made = post(env, pin(text=text)).json()
    assert made["text"] == text
    assert env.client.get(f"{BASE}/contributions").headers["content-type"].startswith("application/json")


def test_vote_twice_counts_once(env: Env) -> None:
    cid = post(env).json()["id"]
    first = env.client.post(f"{BASE}/contributions/{cid}/votes", headers=BOB).json()
    again = env.client.post(f"{BASE}/contributions/{cid}/votes", headers=BOB).json()
    assert first == {"votes": 1, "counted": True} and again == {"votes": 1, "counted": False}
    assert env.client.post(f"{BASE}/contributions/{cid}/votes", headers=ALICE).json()["votes"] == 2
    mine = env.client.get(f"{BASE}/contributions", headers=BOB).json()[0]
    assert mine["voted"] is True and mine["votes"] == 2
    assert env.client.get(f"{BASE}/contributions").json()[0]["voted"] is False
    assert env.client.delete(f"{BASE}/contributions/{cid}/votes", headers=BOB).json() == {"votes": 1, "counted": True}
    post(env, pin(text="second"), BOB)
    ranked = env.client.get(f"{BASE}/contributions", params={"sort": "support"}).json()
    assert ranked[0]["id"] == cid
    assert env.client.post(f"{BASE}/contributions/c-nope/votes", headers=BOB).status_code == 404


def test_premoderation_hide_answer_delete(env: Env, mod: dict[str, str]) -> None:
    assert env.client.put(BASE, json={"premoderation": True}).status_code == 401
    assert env.client.put(BASE, json={"premoderation": True}, headers=mod).json()["premoderation"] is True
    cid = post(env).json()["id"]
    assert env.client.get(f"{BASE}/contributions").json() == []
    assert env.client.post(f"{BASE}/contributions/{cid}/votes", headers=BOB).status_code == 404
    queue = env.client.get(f"{BASE}/moderation", params={"status": "pending"}, headers=mod).json()
    assert [c["id"] for c in queue] == [cid]
    assert env.client.post(f"{BASE}/moderation/{cid}", json={"action": "approve"}, headers=mod).status_code == 200
    assert [c["id"] for c in env.client.get(f"{BASE}/contributions").json()] == [cid]
    assert env.client.get(f"{BASE}/moderation", params={"unreviewed": True}, headers=mod).json() == []
    r = env.client.put(f"{BASE}/moderation/{cid}/answer", json={"text": "We will plant six."}, headers=mod)
    assert r.json()["answer"] == "We will plant six." and r.json()["answered"]
    assert env.client.post(f"{BASE}/moderation/{cid}", json={"action": "hide"}, headers=mod).status_code == 422
    hide = {"action": "hide", "reason": "personal data"}
    hidden = env.client.post(f"{BASE}/moderation/{cid}", json=hide, headers=mod).json()
    assert hidden["hidden_reason"] == "personal data"
    assert env.client.get(f"{BASE}/contributions").json() == []
    assert env.client.delete(f"{BASE}/moderation/{cid}", headers=mod).status_code == 204
    assert env.client.get(f"{BASE}/moderation", headers=mod).json() == []
    assert env.client.delete(f"{BASE}/moderation/{cid}", headers=mod).status_code == 404


def test_moderator_scope(env: Env, mod: dict[str, str]) -> None:
    elsewhere = {"Authorization": "Bearer " + cli.token_create(env.settings, "moderator", ["other"], "x")}
    assert env.client.get(f"{BASE}/moderation", headers=elsewhere).status_code == 404
    assert env.client.get(f"{BASE}/moderation", headers=env.planner).status_code == 403
    assert env.client.get(f"{BASE}/moderation", headers=env.admin).status_code == 200
    # a moderator token moderates; it is not a planner token
    assert env.client.get("/api/planner/scenes", headers=mod).status_code == 403


def test_replies(env: Env, mod: dict[str, str]) -> None:
    cid = post(env).json()["id"]
    r = env.client.post(f"{BASE}/contributions/{cid}/replies", json={"text": "Agreed!", "name": "Bo"}, headers=BOB)
    assert r.status_code == 201 and r.json()["parent"] == cid and r.json()["position"]["lon"] == 9.9605
    rid = r.json()["id"]
    assert [x["id"] for x in env.client.get(f"{BASE}/contributions/{cid}/replies").json()] == [rid]
    assert env.client.get(f"{BASE}/contributions").json()[0]["replies"] == 1
    assert len(env.client.get(f"{BASE}/contributions").json()) == 1  # replies are not top-level
    assert env.client.post(f"{BASE}/contributions/{rid}/replies", json={"text": "x"}, headers=BOB).status_code == 404
    env.client.post(f"{BASE}/moderation/{rid}", json={"action": "hide", "reason": "off topic"}, headers=mod)
    assert env.client.get(f"{BASE}/contributions/{cid}/replies").json() == []
    # With pre-moderation a reply to a visible contribution waits, and the queue shows it under "pending".
    env.client.put(BASE, json={"premoderation": True}, headers=mod)
    later = env.client.post(f"{BASE}/contributions/{cid}/replies", json={"text": "Me too"}, headers=BOB).json()
    pending = env.client.get(f"{BASE}/moderation", params={"status": "pending"}, headers=mod).json()
    assert [c["id"] for c in pending] == [later["id"]]
    threaded = [c["id"] for c in env.client.get(f"{BASE}/moderation", headers=mod).json()]
    assert threaded == [cid, rid, later["id"]]


def test_phase(env: Env, mod: dict[str, str]) -> None:
    cid = post(env).json()["id"]
    assert env.client.put(BASE, json={"open": False}, headers=mod).json()["accepting"] is False
    r = post(env, pin(text="late"))
    assert r.status_code == 409 and "closed" in r.json()["detail"]
    assert env.client.post(f"{BASE}/contributions/{cid}/votes", headers=BOB).status_code == 409
    settings = {"open": True, "opens": "2020-01-01T00:00:00Z", "closes": "2021-01-01T00:00:00Z"}
    assert env.client.put(BASE, json=settings, headers=mod).json()["accepting"] is False
    assert post(env, pin(text="late")).status_code == 409
    bad = {"opens": "2030-01-01T00:00:00Z", "closes": "2029-01-01T00:00:00Z"}
    assert env.client.put(BASE, json=bad, headers=mod).status_code == 422
    assert env.client.put(BASE, json={"opens": None, "closes": None}, headers=mod).json()["accepting"] is True
    assert env.client.get(BASE).json()["categories"] == ["idea", "concern", "question", "praise"]


def test_analogue_entry(env: Env, mod: dict[str, str]) -> None:
    card = pin(text="Bench at the square", workshop="Lab workshop 2026-11-12", card="17")
    assert env.client.post(f"{BASE}/analogue", json=card).status_code == 401
    r = env.client.post(f"{BASE}/analogue", json=card, headers=mod)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["channel"] == "analogue" and made["workshop"] == "Lab workshop 2026-11-12" and made["card"] == "17"
    assert made["status"] == "visible" and made["reviewed"] is True
    assert env.client.post(f"{BASE}/analogue", json=pin(), headers=mod).status_code == 422  # no workshop/card


def test_export_round_trip(env: Env, mod: dict[str, str]) -> None:
    a = post(env, pin(text="=HYPERLINK(1)")).json()
    b = post(env, pin(category="question", variant="proposal", text="Wie hoch?\nUnd wo?"), BOB).json()
    env.client.post(f"{BASE}/contributions/{a['id']}/votes", headers=BOB)
    env.client.post(f"{BASE}/moderation/{b['id']}", json={"action": "hide", "reason": "duplicate"}, headers=mod)
    assert env.client.get(f"{BASE}/export.geojson").status_code == 401
    gj = env.client.get(f"{BASE}/export.geojson", headers=mod)
    assert gj.headers["content-type"].startswith("application/geo+json")
    feats = {f["id"]: f for f in gj.json()["features"]}
    assert feats[a["id"]]["geometry"]["coordinates"] == [9.9605, 53.5705, 61.5]
    assert feats[a["id"]]["properties"]["votes"] == 1 and feats[b["id"]]["properties"]["status"] == "hidden"
    assert feats[b["id"]]["properties"]["camera"]["pitch"] == -30
    text = env.client.get(f"{BASE}/export.csv", headers=mod)
    assert text.headers["content-type"].startswith("text/csv")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(text.text))}
    assert set(rows) == set(feats)
    assert rows[a["id"]]["text"] == "'=HYPERLINK(1)"  # defused for spreadsheets
    assert rows[b["id"]]["text"] == "Wie hoch?\nUnd wo?" and rows[b["id"]]["variant"] == "proposal"
    assert float(rows[a["id"]]["lon"]) == 9.9605 and rows[a["id"]]["votes"] == "1"
    assert rows[a["id"]]["camera_heading"] == "45.0" and rows[a["id"]]["time"].startswith("2026-06-21")


def test_ogc_features_and_summary(env: Env, mod: dict[str, str]) -> None:
    a = post(env).json()
    post(env, pin(category="concern", variant="proposal"), BOB)
    hidden = post(env, pin(text="hide me"), {"X-Device-Key": "carol-device-key-0003"}).json()
    env.client.post(f"{BASE}/moderation/{hidden['id']}", json={"action": "hide", "reason": "spam"}, headers=mod)
    env.client.post(f"{BASE}/contributions/{a['id']}/votes", headers=BOB)
    ids = [c["id"] for c in env.client.get("/ogc/collections").json()["collections"]]
    assert "demo.contributions" in ids
    col = env.client.get("/ogc/collections/demo.contributions").json()
    assert col["itemType"] == "feature"
    items = env.client.get("/ogc/collections/demo.contributions/items")
    assert items.headers["content-type"].startswith("application/geo+json")
    feats = items.json()["features"]
    assert len(feats) == 2 and hidden["id"] not in {f["id"] for f in feats}
    assert "status" not in feats[0]["properties"] and "camera" not in feats[0]["properties"]
    page = env.client.get("/ogc/collections/demo.contributions/items", params={"limit": 1}).json()
    assert page["numberReturned"] == 1 and any(link["rel"] == "next" for link in page["links"])
    none = env.client.get("/ogc/collections/demo.contributions/items", params={"bbox": "0,0,1,1"}).json()
    assert none["features"] == []
    assert env.client.get(f"/ogc/collections/demo.contributions/items/{a['id']}").json()["id"] == a["id"]
    assert env.client.get(f"/ogc/collections/demo.contributions/items/{hidden['id']}").status_code == 404
    assert env.client.get("/ogc/collections/nope.contributions").status_code == 404
    summary = {s["variant"]: s for s in env.client.get(f"{BASE}/summary").json()}
    assert summary[None] == {"variant": None, "count": 1, "support": 1, "categories": {"idea": 1}}
    assert summary["proposal"]["categories"] == {"concern": 1}


def test_privacy_no_key_no_address(env: Env) -> None:
    post(env)
    db = Connection(env.settings.database)
    columns = set(db.all("SELECT * FROM contributions")[0])
    assert "device" in columns and not columns & {"ip", "email", "address", "user_agent"}
    stored = db.all("SELECT device FROM contributions")[0]["device"]
    assert ALICE["X-Device-Key"] not in stored and len(stored) == 64
    salts = db.all("SELECT salt FROM participation_settings")
    assert len(salts) == 1 and len(salts[0]["salt"]) == 32
    dump = "\n".join(str(db.all(f"SELECT * FROM {t}")) for t in sorted(tables(db)))
    assert ALICE["X-Device-Key"] not in dump and "testclient" not in dump


def test_floods_are_429(env: Env) -> None:
    svc = service(env.client.app)  # type: ignore[arg-type]
    svc.limits = Limits()
    svc._buckets["device_posts"] = Buckets(Rate(per_minute=1, burst=2))
    assert post(env).status_code == 201 and post(env).status_code == 201
    r = post(env)
    assert r.status_code == 429 and r.headers["content-type"] == "application/problem+json"
    assert "try again" in r.json()["detail"]
    assert post(env, headers=BOB).status_code == 201  # another device is not held back
    svc._buckets["scene_posts"] = Buckets(Rate(per_minute=1, burst=0))
    assert post(env, headers={"X-Device-Key": "dave-device-key-00004"}).status_code == 429
    assert len(env.client.get(f"{BASE}/contributions").json()) == 3


def test_token_bucket_refills() -> None:
    b = Buckets(Rate(per_minute=60, burst=2))
    assert b.take("k", 0.0) == 0 and b.take("k", 0.0) == 0
    assert b.take("k", 0.0) == pytest.approx(1.0)
    assert b.take("k", 1.0) == 0
    assert b.take("other", 1.0) == 0


def test_migrations_recorded(env: Env) -> None:
    service(env.client.app)  # type: ignore[arg-type]
    assert Connection(env.settings.database).versions()["participation"] == 1


def test_moderation_page_served(env: Env) -> None:
    page = env.client.get("/moderate/")
    assert page.status_code == 200 and "moderate.js" in page.text
    assert json.loads(env.client.get("/openapi.json").text)["paths"][f"{BASE}/contributions".replace("demo", "{scene}")]
