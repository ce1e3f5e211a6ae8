"""SensorThings pages to records, on the real Hamburg pages and on the messy shapes real servers send."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.sensors.conftest import BIKE, CARS, EIMSBUETTEL, EV
from twin.sensors.parse import ParseOptions, expand_bounds, parse_page, parse_time, station_kind
from twin.sensors.records import IngestReport

REGION = expand_bounds(EIMSBUETTEL, 700.0)


def load(path: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


@pytest.fixture(scope="module")
def bike() -> dict[str, Any]:
    return load(BIKE)


def reasons(report: IngestReport) -> dict[str, int]:
    return dict(report.reasons)


def test_bike_page_gives_stations_sections_and_interval_counts(bike: dict[str, Any]) -> None:
    report = IngestReport()
    page = parse_page(bike, report, ParseOptions("bike"))
    assert len(page.stations) == 100 and len(page.observations) == 10_000
    assert page.next_link and "$skip=100" in page.next_link
    st = next(s for s in page.stations if s.id == "bike-11796")
    assert st.kind == "bicycle" and st.thing == "5564" and st.name == "Verkehrszählstelle 0295970"
    assert st.geometry == {"type": "LineString", "coordinates": [[9.999377, 53.580126], [9.999282, 53.580056]]}
    assert st.unit["name"] == "Anzahl"
    obs = [o for o in page.observations if o.station == "bike-11796"]
    assert all(o.end - o.start == 899 for o in obs)
    assert max(o.result for o in page.observations) == 195 and min(o.result for o in page.observations) >= 0
    assert reasons(report) == {}
    assert report.counts["observation_pages_not_followed"] == 100


def test_extent_filter_keeps_the_14_eimsbuettel_stations(bike: dict[str, Any]) -> None:
    report = IngestReport()
    page = parse_page(bike, report, ParseOptions("bike", region=REGION))
    assert len(page.stations) == 14 and len(page.observations) == 1400
    assert report.counts["stations_outside_extent"] == 86
    # no margin: none (the bicycle stations of this page lie around the area, not in it)
    tight = parse_page(bike, IngestReport(), ParseOptions("bike", region=expand_bounds(EIMSBUETTEL, 0)))
    assert len(tight.stations) == 0


def test_car_page_negative_count_and_missing_position_are_reported_per_station() -> None:
    report = IngestReport()
    page = parse_page(load(CARS), report, ParseOptions("cars"))
    assert {s.kind for s in page.stations} == {"car"}  # thing 5564's keywords name the bicycle network
    assert report.problems["cars-16284"][0]["reason"] == "negative count"
    assert "-28" in report.problems["cars-16284"][0]["detail"]
    assert report.problems["cars-13194"][0]["reason"] == "missing position"
    assert all(o.result >= 0 for o in page.observations)
    assert not any(o.station == "cars-16284" for o in page.observations)
    assert len(page.observations) == 95


def test_ev_page_locations_swapped_axes_and_string_results() -> None:
    report = IngestReport()
    doc = load(EV)
    page = parse_page(doc, report, ParseOptions("ev", region=REGION))
    assert page.stations and not page.observations
    assert report.reasons["skipped: non-numeric result"] == len(page.stations)
    assert report.reasons["repaired: latitude and longitude swapped"] >= 1
    for st in page.stations:
        x, y = st.geometry["coordinates"] if st.geometry["type"] == "Point" else st.geometry["coordinates"][0]
        assert REGION.contains(x, y)
    # Without observedArea the thing's expanded Location (a GeoJSON Feature) is the position.
    thing = copy.deepcopy(doc["value"][0])
    for ds in thing["Datastreams"]:
        del ds["observedArea"]
    one = parse_page(thing, IngestReport(), ParseOptions("ev"))
    assert one.stations[0].geometry == {"type": "Point", "coordinates": [9.9266, 53.55308]}


def _thing(bike: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(bike["value"][0])


def test_position_in_another_crs_than_declared_is_repaired_or_read(bike: dict[str, Any]) -> None:
    thing = _thing(bike)
    # UTM 32N metres under a WGS 84 declaration: read as the fallback (the scene's CRS).
    thing["Datastreams"][0]["observedArea"] = {"type": "Point", "coordinates": [565_437.0, 5_936_979.0]}
    report = IngestReport()
    page = parse_page(thing, report, ParseOptions("bike", fallback_crs="EPSG:25832"))
    x, y = page.stations[0].geometry["coordinates"]
    assert 9.9 < x < 10.1 and 53.5 < y < 53.7
    assert report.problems["bike-11796"][0]["reason"] == "position in another CRS than declared"
    # No usable fallback: skipped, with the reason.
    report = IngestReport()
    assert not parse_page(thing, report, ParseOptions("bike", fallback_crs=None)).stations
    assert report.problems["bike-11796"][0]["action"] == "skipped"
    # A geometry that declares its CRS is transformed, not a problem.
    thing["Datastreams"][0]["observedArea"]["crs"] = {"type": "name", "properties": {"name": "EPSG:25832"}}
    report = IngestReport()
    page = parse_page(thing, report, ParseOptions("bike", fallback_crs=None))
    assert page.stations and "bike-11796" not in report.problems


def test_messy_results_and_times(bike: dict[str, Any]) -> None:
    thing = _thing(bike)
    obs = thing["Datastreams"][0]["Observations"][:6]
    obs[0]["result"] = "12"
    obs[1]["result"] = "n/a"
    obs[2]["result"] = True
    obs[3]["result"] = None
    obs[4]["phenomenonTime"] = "yesterday"
    obs[5]["result"] = float("nan")
    thing["Datastreams"][0]["Observations"] = obs
    report = IngestReport()
    page = parse_page(thing, report, ParseOptions("bike"))
    assert [o.result for o in page.observations] == [12.0]
    assert report.reasons == {
        "repaired: numeric result sent as text": 1,
        "skipped: non-numeric result": 4,
        "skipped: bad phenomenonTime": 1,
    }


def test_datastreams_observations_and_locations_pages(bike: dict[str, Any]) -> None:
    thing = _thing(bike)
    stream = thing["Datastreams"][0]
    # Datastreams?$expand=Thing,Observations
    ds_page = {"value": [{**stream, "Thing": {k: v for k, v in thing.items() if k != "Datastreams"}}]}
    page = parse_page(ds_page, IngestReport(), ParseOptions("bike"))
    assert [s.id for s in page.stations] == ["bike-11796"] and page.stations[0].thing == "5564"
    assert len(page.observations) == 100
    # Datastreams(11796)/Observations: the datastream is in the URL only
    obs_page = {
        "value": stream["Observations"][:10],
        "@iot.nextLink": "https://x/v1.1/Datastreams(11796)/Observations?$skip=10",
    }
    page = parse_page(
        obs_page, IngestReport(), ParseOptions("bike"), url="https://x/v1.1/Datastreams(11796)/Observations"
    )
    assert not page.stations and {o.station for o in page.observations} == {"bike-11796"}
    assert page.next_link is not None
    # Locations?$expand=Things/Datastreams
    loc = {"location": {"type": "Point", "coordinates": [9.99, 53.58]}, "encodingType": "application/geo+json"}
    no_area = copy.deepcopy(thing)
    del no_area["Datastreams"][0]["observedArea"]
    page = parse_page({"value": [{**loc, "Things": [no_area]}]}, IngestReport(), ParseOptions("bike"))
    assert page.stations[0].geometry == {"type": "Point", "coordinates": [9.99, 53.58]}


def test_broken_pages_are_reported_not_raised() -> None:
    report = IngestReport()
    assert not parse_page([1, 2], report).stations
    assert not parse_page({"value": [1, {"Datastreams": [{"name": "no id"}]}]}, report).stations
    assert report.reasons["skipped: page is not a JSON object"] == 1
    assert report.reasons["skipped: datastream without @iot.id"] == 1


def test_parse_time_and_kind() -> None:
    assert parse_time("2023-03-24T10:00:00.000Z/2023-03-24T10:14:59.000Z") == (1679652000, 1679652899)
    assert parse_time("2023-03-24T10:00:00Z") == (1679652000, 1679652000)
    assert parse_time("2023-03-24T10:00:00Z/2023-03-24T09:00:00Z") is None
    assert parse_time(12) is None
    assert station_kind({}, {"properties": {"layerName": "Anzahl_Kfz_Zaehlstelle_15-Min"}}) == "car"
    assert station_kind({"name": "Fahrradzählstelle"}, {}) == "bicycle"
    assert station_kind({"name": "Luftmessnetz"}, {}) == "other"
