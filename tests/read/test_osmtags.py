"""OSM tag parsing: lengths with units, storeys, compass directions, roof shapes, addresses, heights."""

from __future__ import annotations

import pytest

from twin.read.osmtags import (
    DEFAULT_PITCHED_ROOF_HEIGHT,
    BuildingAttributes,
    building_attributes,
    building_kind,
    format_address,
    parse_direction,
    parse_length,
    parse_levels,
    parse_roof_shape,
)
from twin.records import ReaderOptions
from twin.report import Report

OPTIONS = ReaderOptions(level_height=3.0, roof_level_height=2.5, default_height=9.0)


@pytest.mark.parametrize(
    ("text", "metres"),
    [
        ("12", 12.0),
        ("12 m", 12.0),
        ("12m", 12.0),
        ("12.13 m", 12.13),
        ("12,5", 12.5),
        ("12,5 m", 12.5),
        (" 7 metres ", 7.0),
        ("40 ft", 40 * 0.3048),
        ("40ft", 40 * 0.3048),
        ("40'", 40 * 0.3048),
        ("12'6\"", 12 * 0.3048 + 6 * 0.0254),
        ("0", 0.0),
        (".5", 0.5),
    ],
)
def test_parse_length_reads_units(text: str, metres: float) -> None:
    assert parse_length(text) == pytest.approx(metres)


@pytest.mark.parametrize(
    "text", ["tall", "-5", "1e9", "1e3", "12;15", "12 storeys", "", "nan", "inf", "5000", "12 m 3", "m"]
)
def test_parse_length_rejects_garbage(text: str) -> None:
    assert parse_length(text) is None


@pytest.mark.parametrize(("text", "levels"), [("5", 5.0), ("2.5", 2.5), ("2,5", 2.5), ("0", 0.0), (" 12 ", 12.0)])
def test_parse_levels(text: str, levels: float) -> None:
    assert parse_levels(text) == levels


@pytest.mark.parametrize("text", ["-1", "five", "3-4", "2;3", "1000", "5 floors"])
def test_parse_levels_rejects_garbage(text: str) -> None:
    assert parse_levels(text) is None


@pytest.mark.parametrize(
    ("text", "degrees"),
    [
        ("N", 0.0),
        ("NNE", 22.5),
        ("ne", 45.0),
        ("E", 90.0),
        ("ESE", 112.5),
        ("S", 180.0),
        ("SW", 225.0),
        ("WNW", 292.5),
        ("NNW", 337.5),
        ("135", 135.0),
        ("22.5", 22.5),
        ("360", 0.0),
        ("450", 90.0),
    ],
)
def test_parse_direction(text: str, degrees: float) -> None:
    assert parse_direction(text) == pytest.approx(degrees)


@pytest.mark.parametrize("text", ["north", "NSE", "-90", "up", ""])
def test_parse_direction_rejects_garbage(text: str) -> None:
    assert parse_direction(text) is None


@pytest.mark.parametrize(
    ("text", "shape", "fell_back"),
    [
        (None, "flat", False),
        ("flat", "flat", False),
        ("gabled", "gabled", False),
        ("Hipped", "hipped", False),
        ("pyramidal", "pyramidal", False),
        ("pyramid", "pyramidal", False),
        ("skillion", "skillion", False),
        ("dome", "flat", True),
        ("double_saltbox", "flat", True),
        ("saltbox", "flat", True),
        ("gambrel", "flat", True),
        ("mansard", "flat", True),
        ("round", "flat", True),
        ("9.0", "flat", True),
    ],
)
def test_parse_roof_shape(text: str | None, shape: str, fell_back: bool) -> None:
    assert parse_roof_shape(text) == (shape, fell_back)


def test_format_address() -> None:
    tags = {
        "addr:street": "Mansteinstraße",
        "addr:housenumber": "29",
        "addr:postcode": "20253",
        "addr:city": "Hamburg",
    }
    assert format_address(tags) == "Mansteinstraße 29, 20253 Hamburg"
    assert format_address({**tags, "addr:housename": "Haus Eins"}) == ("Haus Eins, Mansteinstraße 29, 20253 Hamburg")
    assert format_address({"addr:place": "Hallig Hooge", "addr:housenumber": "3"}) == "Hallig Hooge 3"
    assert format_address({"addr:city": "Berlin"}) == "Berlin"
    assert format_address({"name": "x"}) is None


@pytest.mark.parametrize(
    ("tags", "kind"),
    [
        ({"building": "yes"}, "outline"),
        ({"building": "apartments"}, "outline"),
        ({"building:part": "yes"}, "part"),
        ({"building": "church", "building:part": "yes"}, "part"),
        ({"building": "no"}, None),
        ({"building:part": "no", "building": "yes"}, "outline"),
        ({"highway": "residential"}, None),
    ],
)
def test_building_kind(tags: dict[str, str], kind: str | None) -> None:
    assert building_kind(tags) == kind


def attrs(tags: dict[str, str], report: Report | None = None) -> BuildingAttributes:
    return building_attributes(tags, "way/1", options=OPTIONS, report=report or Report())


def test_height_tag_wins_over_levels() -> None:
    a = attrs({"building": "yes", "height": "39", "building:levels": "5"})
    assert a.height == 39.0
    assert a.properties["height_source"] == "height"
    assert a.properties["levels"] == 5


def test_height_from_levels_and_roof_levels() -> None:
    a = attrs({"building": "apartments", "building:levels": "5", "roof:levels": "1", "roof:shape": "gabled"})
    assert a.height == pytest.approx(5 * 3.0 + 2.5)
    assert a.roof.shape == "gabled"
    assert a.roof.height == pytest.approx(2.5)
    assert a.properties == {
        "height_source": "levels",
        "levels": 5,
        "roof_levels": 1,
        "usage": "apartments",
    }


def test_height_from_levels_plus_roof_height() -> None:
    a = attrs({"building": "yes", "building:levels": "3", "roof:height": "4 m", "roof:shape": "hipped"})
    assert a.height == pytest.approx(13.0)
    assert a.roof.height == pytest.approx(4.0)


def test_pitched_roof_without_height_gets_default() -> None:
    a = attrs({"building": "house", "building:levels": "2", "roof:shape": "gabled"})
    assert a.roof.height == DEFAULT_PITCHED_ROOF_HEIGHT
    assert a.height == pytest.approx(6.0 + DEFAULT_PITCHED_ROOF_HEIGHT)
    # No height at all: the default roof must still fit under the scene's default height.
    b = attrs({"building": "yes", "roof:shape": "hipped"})
    assert b.height is None
    assert b.properties["height_source"] == "default"
    assert 0 < b.roof.height < OPTIONS.default_height


def test_no_height_information_leaves_height_to_repair() -> None:
    a = attrs({"building": "yes"})
    assert a.height is None
    assert a.base == 0.0
    assert a.roof.shape == "flat"
    assert a.properties["height_source"] == "default"


def test_base_from_min_height_or_min_level() -> None:
    assert attrs({"building:part": "yes", "height": "15.9", "min_height": "11.2"}).base == pytest.approx(11.2)
    a = attrs({"building:part": "yes", "building:levels": "7", "building:min_level": "2"})
    assert a.base == pytest.approx(6.0)
    assert a.height == pytest.approx(21.0)


def test_roof_on_stilts_takes_height_from_min_height_and_roof_height() -> None:
    # Helsinki Cathedral's small domes: min_height + roof:height, no height.
    a = attrs({"building:part": "yes", "min_height": "18", "roof:height": "5", "roof:shape": "dome"})
    assert a.base == 18.0
    assert a.height == 23.0
    assert a.roof.shape == "flat"


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        ({"height": "tall"}, "bad height tag"),
        ({"height": "-5"}, "bad height tag"),
        ({"height": "1e9"}, "bad height tag"),
        ({"height": "0"}, "bad height tag"),
        ({"building:levels": "many"}, "bad levels tag"),
        ({"roof:levels": "-1"}, "bad roof levels tag"),
        ({"roof:height": "steep"}, "bad roof height tag"),
        ({"min_height": "low"}, "bad min_height tag"),
        ({"roof:direction": "up", "roof:shape": "skillion"}, "bad roof direction tag"),
        ({"roof:orientation": "sideways", "roof:shape": "gabled"}, "bad roof orientation tag"),
    ],
)
def test_garbage_tags_are_ignored_and_reported(tags: dict[str, str], reason: str) -> None:
    report = Report()
    a = attrs({"building": "yes", **tags}, report)
    assert report.repaired[reason] == 1
    assert report.examples[f"repaired: {reason}"] == ["way/1"]
    assert a.height is None or a.height > 0


def test_bad_height_falls_back_to_levels() -> None:
    report = Report()
    a = attrs({"building": "yes", "height": "tall", "building:levels": "4"}, report)
    assert a.height == 12.0
    assert a.properties["height_source"] == "levels"


def test_roof_fallback_is_counted_and_kept_as_tag() -> None:
    report = Report()
    a = attrs({"building": "yes", "roof:shape": "double_saltbox", "building:levels": "6", "roof:levels": "1"}, report)
    assert a.roof.shape == "flat"
    assert a.roof.height == 0.0
    assert a.properties["roof_shape_tag"] == "double_saltbox"
    assert report.counts["roof_fallback"] == 1
    # The roof storey still counts towards the height of the (now flat) building.
    assert a.height == pytest.approx(6 * 3.0 + 2.5)


def test_roof_direction_and_orientation() -> None:
    skillion = attrs({"building": "yes", "roof:shape": "skillion", "roof:direction": "SE"})
    assert skillion.roof.direction == 135.0
    # Roof.direction keeps OSM's meaning for every shape: the way the main slope faces.
    gabled = attrs({"building": "yes", "roof:shape": "gabled", "roof:direction": "N"})
    assert gabled.roof.direction == 0.0
    across = attrs({"building": "yes", "roof:shape": "gabled", "roof:orientation": "across"})
    assert across.roof.orientation == "across"
    assert across.roof.direction is None
    flat = attrs({"building": "yes", "roof:direction": "90"})
    assert flat.roof.direction is None


def test_roof_taller_than_building_is_clipped_and_reported() -> None:
    report = Report()
    a = attrs({"building": "yes", "height": "6", "roof:height": "8", "roof:shape": "gabled"}, report)
    assert a.height == 6.0
    assert 0 < a.roof.height < a.height - a.base
    assert report.repaired["roof taller than building"] == 1


def test_default_roof_shrinks_on_low_buildings_without_report() -> None:
    report = Report()
    a = attrs({"building": "garage", "height": "2.5", "roof:shape": "gabled"}, report)
    assert a.roof.height == pytest.approx(1.25)
    assert not report.repaired


def test_min_height_above_height_is_dropped() -> None:
    report = Report()
    a = attrs({"building:part": "yes", "height": "10", "min_height": "12"}, report)
    assert a.base == 0.0
    assert a.height == 10.0
    assert report.repaired["min_height above height"] == 1


def test_metadata_properties() -> None:
    a = attrs(
        {
            "building": "apartments",
            "building:levels": "2.5",
            "name": "Haus",
            "start_date": "1905",
            "addr:street": "Eppendorfer Weg",
            "addr:housenumber": "149",
        }
    )
    assert a.properties["levels"] == 3
    assert a.properties["name"] == "Haus"
    assert a.properties["year"] == "1905"
    assert a.properties["address"] == "Eppendorfer Weg 149"
    assert a.properties["usage"] == "apartments"
    assert attrs({"building": "yes", "construction_date": "1852"}).properties["year"] == "1852"
    # building:part=yes says nothing about use; building=church on the same way does.
    assert attrs({"building:part": "yes", "building": "church"}).properties["usage"] == "church"
    assert attrs({"building:part": "yes"}).properties["usage"] == "yes"


def test_house_name_equal_to_name_is_not_repeated() -> None:
    from twin.read.osmtags import format_address

    tags = {"name": "Rathaus", "addr:housename": "Rathaus", "addr:street": "Markt", "addr:housenumber": "1"}
    assert format_address(tags) == "Markt 1"
    assert format_address({**tags, "name": "Town hall"}) == "Rathaus, Markt 1"
