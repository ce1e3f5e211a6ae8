"""The public sensors API on the demo scene's recorded pages: Features, buckets, CSV, summaries, errors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.cli import sensors_ingest
from server.settings import Settings
from tests.sensors.conftest import BIKE

REPO = Path(__file__).resolve().parents[2]
BASE = "/api/scenes/hamburg-eimsbuettel/sensors"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("sensors-api"), scenes_dir=REPO / "scenes")
    app = create_app(settings)
    sensors_ingest(settings, REPO / "scenes" / "hamburg-eimsbuettel")
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def station(client: TestClient) -> dict[str, Any]:
    feature: dict[str, Any] = client.get(f"{BASE}/items", params={"limit": 1}).json()["features"][0]
    return feature


def raw_counts(station_id: str) -> list[tuple[int, float]]:
    from twin.sensors.parse import ParseOptions, parse_page
    from twin.sensors.records import IngestReport

    page = parse_page(json.loads(BIKE.read_text()), IngestReport(), ParseOptions("bike"))
    return [(o.start, o.result) for o in page.observations if o.station == station_id]


def problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["detail"]
    return body


def test_collection_and_items(client: TestClient) -> None:
    doc = client.get(BASE).json()
    assert doc["id"] == "hamburg-eimsbuettel-sensors" and doc["itemType"] == "feature"
    assert doc["numberOfStations"] == 14
    w, s, e, n = doc["extent"]["spatial"]["bbox"][0]
    assert 9.9 < w < e < 10.0 and 53.56 < s < n < 53.6
    assert doc["extent"]["temporal"]["interval"][0][0].startswith("2023-03-2")
    r = client.get(f"{BASE}/items")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and fc["numberMatched"] == fc["numberReturned"] == 14
    assert {f["geometry"]["type"] for f in fc["features"]} == {"Point"}  # 95 of the 100 stations are points
    assert {f["properties"]["kind"] for f in fc["features"]} == {"bicycle"}
    page = client.get(f"{BASE}/items", params={"limit": 5, "offset": 5}).json()
    assert page["numberReturned"] == 5 and any(link["rel"] == "next" for link in page["links"])
    assert client.get(f"{BASE}/items", params={"kind": "car"}).json()["numberMatched"] == 0
    assert client.get(f"{BASE}/items", params={"bbox": "0,0,1,1"}).json()["features"] == []


def test_one_station_and_its_summary(client: TestClient, station: dict[str, Any]) -> None:
    one = client.get(f"{BASE}/items/{station['id']}").json()
    assert one["id"] == station["id"] and one["properties"]["unit"]["name"] == "Anzahl"
    s = client.get(f"{BASE}/items/{station['id']}/summary").json()
    assert s["timezone"] == "Europe/Berlin" and s["observations"] == 100
    raw = raw_counts(station["id"])
    berlin = ZoneInfo("Europe/Berlin")
    dates = sorted({datetime.fromtimestamp(t, berlin).date().isoformat() for t, _ in raw})
    assert [d["date"] for d in s["days"]] == dates and dates[-1] == "2023-03-24"
    total = sum(v for _, v in raw)
    assert s["total"] == total == sum(d["total"] for d in s["days"])
    assert len(s["profiles"]["weekday"]) == 24 and s["profiles"]["weekend"] == [None] * 24
    assert 0 <= s["days"][1]["peak_hour"] <= 23


def test_observations_by_bucket_match_the_recorded_counts(client: TestClient, station: dict[str, Any]) -> None:
    sid = station["id"]
    raw = raw_counts(sid)
    a, b = "2023-03-23T00:00Z", "2023-03-24T00:00Z"
    doc = client.get(f"{BASE}/observations", params={"bucket": "hour", "from": a, "to": b, "station": sid}).json()
    assert doc["bucket"] == "hour" and len(doc["starts"]) == 24 and doc["ends"][-1] == 1679616000
    sums = doc["stations"][0]["sums"]
    want = sum(v for t, v in raw if 1679529600 <= t < 1679616000)
    assert sum(x for x in sums if x is not None) == want
    quarter = client.get(f"{BASE}/observations", params={"from": a, "to": b, "station": sid}).json()
    in_day = [(t, v) for t, v in raw if 1679529600 <= t < 1679616000]
    assert len(quarter["starts"]) == 96 and sum(quarter["stations"][0]["counts"]) == len(in_day) > 0
    days = client.get(f"{BASE}/observations", params={"bucket": "day", "from": "2023-03-22", "to": "2023-03-25"}).json()
    assert len(days["stations"]) == 14 and len(days["starts"]) == 4  # local days, from the local midnight before
    mine = next(s for s in days["stations"] if s["id"] == sid)
    assert sum(x for x in mine["sums"] if x is not None) == sum(v for _, v in raw)


def test_all_stations_one_hour_and_csv(client: TestClient) -> None:
    params = {"bucket": "hour", "from": "2023-03-24T07:00Z", "to": "2023-03-24T08:00Z"}
    doc = client.get(f"{BASE}/observations", params=params).json()
    assert len(doc["stations"]) == 14 and all(s["counts"] == [4] for s in doc["stations"])
    r = client.get(f"{BASE}/observations", params={**params, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 14 and rows[0]["start"] == "2023-03-24T07:00:00Z" and rows[0]["end"] == "2023-03-24T08:00:00Z"
    assert {row["count"] for row in rows} == {"4"}


def test_status(client: TestClient) -> None:
    s = client.get(f"{BASE}/status").json()
    assert s["state"] == "ok" and s["stations"] == 14 and s["observations"] == 1400
    assert s["sources"][0]["source"] == "bike" and s["sources"][0]["live"] is False


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/observations", {"bucket": "week"}, 400),
        ("/observations", {"from": "yesterday"}, 400),
        ("/observations", {"from": "2023-03-24", "to": "2023-03-23"}, 400),
        ("/observations", {"tz": "Mars/Olympus"}, 400),
        ("/observations", {"from": "2000-01-01", "to": "2023-01-01"}, 400),
        ("/observations", {"from": "1e300"}, 400),
        ("/observations", {"from": "0001-01-01", "to": "9999-12-31"}, 400),
        ("/observations", {"bucket": "day", "from": "-99999999999"}, 400),
        ("/observations", {"tz": "../../etc/passwd"}, 400),
        ("/items/bike-nope/summary", {"to": "1960-01-01"}, 404),
        ("/observations", {"station": "bike-nope"}, 404),
        ("/observations", {"format": "xml"}, 422),
        ("/items", {"kind": "tram"}, 400),
        ("/items", {"bbox": "1,2,3"}, 400),
        ("/items", {"limit": 0}, 422),
        ("/items/bike-nope", {}, 404),
        ("/items/bike-nope/summary", {}, 404),
    ],
)
def test_bad_parameters_are_problems(client: TestClient, path: str, params: dict[str, Any], status: int) -> None:
    problem(client.get(BASE + path, params=params), status)


def test_unknown_scene_is_404(client: TestClient) -> None:
    problem(client.get("/api/scenes/nowhere/sensors/items"), 404)
    problem(client.get("/api/scenes/nowhere/sensors/status"), 404)
