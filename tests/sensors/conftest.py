"""Fixtures of the sensors tests: the recorded Hamburg pages and a FROST-like server serving them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sensors.frost import create_frost, serve

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))  # pg.py imports liveserver beside it
from pg import postgres_server, postgres_url  # noqa: F401 - fixtures: the run's PostgreSQL, a database per test

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sensors"
BIKE = FIXTURES / "bike_counts.json"
CARS = FIXTURES / "traffic_status.json"
EV = FIXTURES / "ev-charging-stations.json"
#: The Eimsbüttel demo area (degrees): 14 bicycle stations lie within 700 m of it.
EIMSBUETTEL = (9.945, 53.570, 9.967, 53.582)


@pytest.fixture(scope="module")
def frost() -> Iterator[tuple[str, object]]:
    """``(base URL, app)`` of a FROST-like server on a loopback port, over the bicycle and car pages."""
    app = create_frost([BIKE, CARS], slow=3.0)
    with serve(app) as url:
        yield url, app
