"""Repair: a zoo of broken footprints, each repaired or skipped with a reason; heights and roofs."""

from __future__ import annotations

import math

import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from twin.records import Building, ReaderOptions, Roof
from twin.repair import repair_building, repair_footprint
from twin.report import Report


def _fix(poly: Polygon) -> tuple[Polygon | MultiPolygon | None, Report]:
    report = Report()
    return repair_footprint(poly, "f", report), report


def test_valid_square_passes_unchanged_and_ccw() -> None:
    out, report = _fix(box(0, 0, 10, 10))
    assert out is not None and out.exterior.is_ccw and out.area == 100
    assert not report.skipped and not report.repaired


def test_clockwise_is_reoriented() -> None:
    out, report = _fix(Polygon([(0, 0), (0, 10), (10, 10), (10, 0)]))
    assert out is not None and out.exterior.is_ccw
    assert report.counts["winding_normalized"] == 1


def test_hole_winding_is_clockwise() -> None:
    out, _ = _fix(Polygon(box(0, 0, 10, 10).exterior.coords, [box(4, 4, 6, 6).exterior.coords]))
    assert out is not None and out.exterior.is_ccw and not out.interiors[0].is_ccw


def test_bowtie_is_split() -> None:
    out, report = _fix(Polygon([(0, 0), (10, 10), (10, 0), (0, 10)]))
    assert isinstance(out, MultiPolygon) and out.is_valid and math.isclose(out.area, 50)
    assert report.repaired["invalid polygon made valid"] == 1


def test_duplicate_points_removed() -> None:
    out, report = _fix(Polygon([(0, 0), (10, 0), (10, 0), (10, 10), (0, 10), (0, 10)]))
    assert out is not None and len(out.exterior.coords) == 5
    assert report.repaired["duplicate points removed"] == 1


def test_spike_removed() -> None:
    out, _ = _fix(Polygon([(0, 0), (10, 0), (10, 10), (5, 10), (5, 20), (5, 10), (0, 10)]))
    assert out is not None and out.is_valid and out.bounds == (0, 0, 10, 10)


@pytest.mark.parametrize(
    ("poly", "reason"),
    [
        (Polygon([(0, 0), (1, 1), (2, 2)]), "invalid polygon beyond repair"),
        (Polygon([(0, 0), (1, 0), (1, math.nan)]), "NaN or infinite coordinates"),
        (Polygon([(0, 0), (0.05, 0), (0.05, 0.05), (0, 0.05)]), "zero area"),
        (box(0, 0, 2000, 2000), "absurd extent"),
        (Polygon(), "empty footprint"),
    ],
)
def test_broken_footprints_are_skipped_with_reason(poly: Polygon, reason: str) -> None:
    out, report = _fix(poly)
    assert out is None
    assert report.skipped[reason] == 1
    assert report.examples[f"skipped: {reason}"] == ["f"]


def _building(**kw: object) -> Building:
    args: dict[str, object] = {"id": "b", "source": "t", "crs": "EPSG:25832", "footprint": box(0, 0, 10, 10)}
    args.update(kw)
    return Building(**args)  # type: ignore[arg-type]


def test_default_height_applied_and_counted() -> None:
    report = Report()
    out = repair_building(_building(height=None), ReaderOptions(default_height=7.5), report)
    assert out is not None and out.height == 7.5 and out.properties["height_source"] == "default"
    assert report.counts["default_height"] == 1


def test_height_below_min_height_is_repaired() -> None:
    report = Report()
    out = repair_building(_building(height=5.0, base=6.0), ReaderOptions(), report)
    assert out is not None and out.height > out.base
    assert report.repaired["height below min_height"] == 1


def test_unknown_roof_falls_back_to_flat() -> None:
    report = Report()
    out = repair_building(_building(height=10.0, roof=Roof("onion", 3.0)), ReaderOptions(), report)
    assert out is not None and out.roof.shape == "flat" and out.roof.height == 0
    assert report.counts["roof_fallback"] == 1


def test_roof_taller_than_building_is_clipped() -> None:
    report = Report()
    out = repair_building(_building(height=10.0, base=2.0, roof=Roof("gabled", 20.0)), ReaderOptions(), report)
    assert out is not None and out.roof.height < 8.0


def test_absurd_height_skipped() -> None:
    report = Report()
    assert repair_building(_building(height=5000.0), ReaderOptions(), report) is None
    assert report.skipped["absurd height"] == 1


def test_batch_repair_matches_one_by_one() -> None:
    from twin.repair import repair_buildings

    zoo = [
        box(0, 0, 10, 10),
        Polygon([(0, 0), (0, 10), (10, 10), (10, 0)]),  # clockwise
        Polygon([(0, 0), (10, 10), (10, 0), (0, 10)]),  # bow-tie
        Polygon([(0, 0), (10, 0), (10, 0), (10, 10), (0, 10)]),  # repeated point
        Polygon([(0, 0), (0.05, 0), (0.05, 0.05), (0, 0.05)]),  # too small
        Polygon([(0, 0), (1, 0), (1, math.nan)]),
    ]
    heights = [9.0, 12.0, None, 5000.0, 3.0, 3.0]
    buildings = [
        _building(id=f"b{i}", footprint=fp, height=h) for i, (fp, h) in enumerate(zip(zoo, heights, strict=True))
    ]
    one, many = Report(), Report()
    expected = [r for b in buildings if (r := repair_building(b, ReaderOptions(), one)) is not None]
    got = repair_buildings(buildings, ReaderOptions(), many)
    assert [b.id for b in got] == [b.id for b in expected]
    for a, b in zip(got, expected, strict=True):
        assert a.footprint.equals_exact(b.footprint, 0.0) and a.height == b.height and a.roof == b.roof
    assert many.skipped == one.skipped and many.repaired == one.repaired
    assert many.counts == one.counts
