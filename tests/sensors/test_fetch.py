"""Live fetching against a FROST-like server on loopback: paging, loops, time-outs, huge pages, SSRF guards."""

from __future__ import annotations

from typing import Any

import pytest

from twin.sensors.fetch import FetchRefused, get_json, is_public_address, read_source
from twin.sensors.records import IngestReport
from twin.sensors.spec import SensorSourceSpec

LOOPBACK_OK: dict[str, Any] = {"address_ok": lambda ip: True, "backoff": 0.0, "sleep": lambda s: None}
BIKES = "Datastreams/properties/serviceName eq 'HH_STA_HamburgerRadzaehlnetz'"


def spec(url: str, **kw: Any) -> SensorSourceSpec:
    return SensorSourceSpec(name="bike", url=url, allowed_hosts=("127.0.0.1",), timeout=kw.pop("timeout", 5.0), **kw)


def test_paging_follows_next_link_with_top_filter_and_expand(frost: tuple[str, Any]) -> None:
    url, app = frost
    app.state.requests.clear()
    src = spec(f"{url}/v1.1/Things", top=30, filter=BIKES, expand="Datastreams/Observations")
    result = read_source(src, None, **LOOPBACK_OK)
    assert result.error is None
    bikes = [s for s in result.stations if s.kind == "bicycle"]
    assert len(bikes) == 100
    assert sum(1 for o in result.observations if o.station in {b.id for b in bikes}) == 10_000
    assert result.report.counts["pages"] == 4 and len(app.state.requests) == 4
    assert "%24skip=90" in app.state.requests[-1] or "$skip=90" in app.state.requests[-1]
    # $top above FROST's maxTop is cut by the server; paging still reaches every Thing.
    again = read_source(spec(f"{url}/v1.1/Things", top=500, filter=BIKES, expand="Datastreams"), None, **LOOPBACK_OK)
    assert len([s for s in again.stations if s.kind == "bicycle"]) == 100 and not again.observations


def test_observations_pages_of_one_datastream(frost: tuple[str, Any]) -> None:
    url, _ = frost
    result = read_source(spec(f"{url}/v1.1/Datastreams(11796)/Observations", top=40), None, **LOOPBACK_OK)
    assert len(result.observations) == 100 and not result.stations
    assert result.report.counts["pages"] == 3


def test_a_looping_next_link_ends_paging(frost: tuple[str, Any]) -> None:
    url, _ = frost
    result = read_source(spec(f"{url}/loop/Things", top=5), None, **LOOPBACK_OK)
    assert result.error is None and len(result.stations) >= 5
    assert result.report.problems["bike"][0]["reason"] == "nextLink loops"
    assert result.report.counts["pages"] == 1  # its nextLink is the page itself (in another spelling)


def test_a_slow_upstream_times_out_after_retries(frost: tuple[str, Any]) -> None:
    url, _ = frost
    waits: list[float] = []
    slow = spec(f"{url}/slow/Things", timeout=0.3)
    result = read_source(slow, None, address_ok=lambda ip: True, retries=2, backoff=0.5, sleep=waits.append)
    assert result.error is not None and "timed out" in result.error
    assert waits == [0.5, 1.0]
    assert result.report.problems["bike"][0]["reason"] == "upstream timed out"


def test_a_huge_page_is_asked_again_with_a_smaller_top(frost: tuple[str, Any]) -> None:
    url, _ = frost
    src = spec(f"{url}/huge/Things", top=100, filter=BIKES, expand="Datastreams", max_page_bytes=120_000)
    result = read_source(src, None, **LOOPBACK_OK)
    assert result.error is None
    assert len([s for s in result.stations if s.kind == "bicycle"]) == 100
    assert result.report.reasons["repaired: huge page"] >= 1
    one = spec(f"{url}/huge/Things", top=1, expand="Datastreams", max_page_bytes=1024)
    tiny = read_source(one, None, **LOOPBACK_OK)
    assert tiny.error is not None and tiny.report.reasons["skipped: huge page"] == 1


def test_loopback_is_refused_by_default_even_when_allowed_by_name(frost: tuple[str, Any]) -> None:
    url, app = frost
    app.state.requests.clear()
    result = read_source(spec(f"{url}/v1.1/Things"), None)
    assert result.error is not None and "not a public address" in result.error
    assert result.report.problems["bike"][0]["reason"] == "fetch refused"
    assert app.state.requests == []  # refused before connecting


def test_hosts_off_the_allow_list_and_redirects_elsewhere_are_refused(frost: tuple[str, Any]) -> None:
    url, _ = frost
    with pytest.raises(FetchRefused, match="not in the source's allowed_hosts"):
        get_json(f"{url}/v1.1/Things", ("iot.hamburg.de",), address_ok=lambda ip: True)
    with pytest.raises(FetchRefused, match="redirect"):
        get_json(f"{url}/redirect", ("127.0.0.1", "localhost"), address_ok=lambda ip: True)
    with pytest.raises(FetchRefused, match="only http"):
        get_json("file:///etc/passwd", ("127.0.0.1",))
    with pytest.raises(FetchRefused, match="not a public address"):
        get_json("http://10.0.0.1/v1.1/Things", ("10.0.0.1",), timeout=0.5)


def test_a_peer_that_turns_private_after_resolving_is_refused(frost: tuple[str, Any]) -> None:
    # DNS rebinding: the name checked out, the address connected to does not.
    url, _ = frost
    answers = iter([True])
    with pytest.raises(FetchRefused, match=r"connected to 127\.0\.0\.1"):
        get_json(f"{url}/v1.1/Things?$top=1", ("127.0.0.1",), address_ok=lambda ip: next(answers, False))


@pytest.mark.parametrize(
    ("ip", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fc00::1", False),
        ("fe80::1%eth0", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
        ("not an ip", False),
        ("8.8.8.8", True),
        ("2a00:1450:4001:80b::200e", True),
    ],
)
def test_public_addresses(ip: str, public: bool) -> None:
    assert is_public_address(ip) is public


def test_recorded_pages_report_unreadable_files(tmp_path: Any) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = read_source(SensorSourceSpec(name="rec", pages=(bad,)), None)
    assert result.error is None and result.report.problems["rec"][0]["reason"] == "unreadable page"
    report = IngestReport()
    assert report.to_dict() == {"counts": {}, "reasons": {}, "problems": {}}


def test_a_rejected_filter_is_not_retried(frost: tuple[str, Any]) -> None:
    url, app = frost
    app.state.requests.clear()
    waits: list[float] = []
    bad = spec(f"{url}/v1.1/Things", filter="name gt 'x'")
    result = read_source(bad, None, address_ok=lambda ip: True, retries=3, sleep=waits.append)
    assert result.error is not None and "HTTP 400" in result.error and "unsupported $filter" in result.error
    assert waits == [] and len(app.state.requests) == 1
    assert result.report.problems["bike"][0]["reason"] == "upstream rejected the request"


def test_filter_on_a_thing_property_pages_only_matching_things(frost: tuple[str, Any]) -> None:
    url, _ = frost
    one = spec(f"{url}/v1.1/Things", filter="properties/assetID eq '0295970'", expand="Datastreams")
    result = read_source(one, None, **LOOPBACK_OK)
    assert {s.thing for s in result.stations} == {"5564"}
    assert {s.kind for s in result.stations} == {"bicycle", "car"}  # one Thing, two networks
