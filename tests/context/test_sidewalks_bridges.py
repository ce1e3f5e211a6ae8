"""Sidewalks, bridges and tunnels on real Eimsbüttel streets (hamburg_streets_cut.geojson): which sides get a
sidewalk (tagged, or typical among buildings), strips beside the carriageway that never overlap one, bridge
decks at their height over a valley (not draped), tunnels not drawn, and a build whose roads layer carries
them, valid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from twin.build import build_scene
from twin.context.context_layer import read_context
from twin.context.drape import polygons_of
from twin.context.osmfeatures import SIDEWALK_WIDTH, sidewalks
from twin.context.records import LineFeature
from twin.context.streets import (
    CLASS_ORDER,
    DECK_THICKNESS,
    LIFT_STEP,
    class_lift,
    line_width,
    mesh_deck,
    mesh_roads,
    road_pieces,
)
from twin.context.terrain import HeightGrid
from twin.encode.glb import read_glb, read_property_table
from twin.report import Report
from twin.scene import parse_scene
from twin.validate import validate_glb_extensions, validate_tileset_json

STREETS = Path(__file__).resolve().parents[1] / "fixtures" / "osm" / "hamburg_streets_cut.geojson"
CRS = "EPSG:25832"
W = SIDEWALK_WIDTH


@pytest.fixture(scope="module")
def lines() -> dict[str, LineFeature]:
    context = read_context([STREETS], CRS, (-1e7, -1e7, 1e7, 1e7), Report())
    return {line.id: line for line in context.lines}


@pytest.fixture(scope="module")
def buildings() -> Any:
    data = json.loads(STREETS.read_text(encoding="utf-8"))
    from pyproj import Transformer

    to = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    polygons = [
        shapely.transform(shapely.geometry.shape(f["geometry"]), lambda xy: np.column_stack(to.transform(*xy.T)))
        for f in data["features"]
        if "building" in (f["properties"].get("tags") or f["properties"])
    ]
    return shapely.union_all(polygons)


@pytest.mark.parametrize(
    ("ident", "sides"),
    [
        ("way/3986712", (W, W)),  # sidewalk=both
        ("way/16186395", (0.0, W)),  # sidewalk=right
        ("way/23654551", (W, 0.0)),  # sidewalk=left
        ("way/19646842", (0.0, 0.0)),  # sidewalk=no
        ("way/23118951", (0.0, 0.0)),  # sidewalk=separate: drawn as its own footway
        ("way/44365507", (0.0, W)),  # sidewalk:left=separate, sidewalk:right=yes
        ("way/10880732", (W, W)),  # residential, untagged: typical
        ("way/239962999", (0.0, 0.0)),  # a footway=sidewalk is a path itself
    ],
)
def test_sides(lines: dict[str, LineFeature], ident: str, sides: tuple[float, float]) -> None:
    assert sidewalks(lines[ident].tags) == sides


def test_tunnels_are_not_drawn_bridges_are(lines: dict[str, LineFeature]) -> None:
    assert not {"way/41263868", "way/465381557", "way/642656332"} & set(lines)
    assert {"way/24469219", "way/87726783"} <= set(lines)


def test_sidewalk_strips_lie_beside_the_carriageway(lines: dict[str, LineFeature], buildings: Any) -> None:
    pieces = road_pieces(list(lines.values()), buildings)
    strips = [
        (line, p) for line, p, c in zip(pieces.lines, pieces.polygons, pieces.classes, strict=True) if c == "sidewalk"
    ]
    owners = {line.id for line, _ in strips}
    assert {"way/3986712", "way/16186395", "way/23654551", "way/10880732"} <= owners
    assert not {"way/19646842", "way/23118951", "way/239962999"} & owners
    carriageways = [
        p
        for p, c, b in zip(pieces.polygons, pieces.classes, pieces.bridges, strict=True)
        if c in CLASS_ORDER[2:] and not b
    ]
    union = shapely.union_all(carriageways)
    for line, strip in strips:
        assert strip.intersection(union).area < 0.05  # cut back wherever a carriageway lies
        # Within the sidewalk's band beside the road (mitred corners reach a little further).
        d = line.geometry.distance(shapely.point_on_surface(strip))
        assert line_width(line) / 2 - 0.01 <= d <= line_width(line) / 2 + W + 0.01
    # sidewalk=right: the strip is right of the way's direction.
    line, strip = next((ln, s) for ln, s in strips if ln.id == "way/16186395")
    a, b = np.asarray(line.geometry.coords)[:2]
    p = np.asarray(shapely.point_on_surface(strip).coords)[0]
    coords = np.asarray(line.geometry.coords)
    k = int(np.argmin(np.linalg.norm(coords - p, axis=1)))
    a, b = coords[max(k - 1, 0)], coords[max(k - 1, 0) + 1]
    assert (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) < 0
    # Sidewalks sit between paths and streets in the stack, a lift step from each.
    assert (
        class_lift("sidewalk") - class_lift("path") >= 0.03 and class_lift("cycleway") - class_lift("sidewalk") >= 0.03
    )


def test_typical_sidewalks_only_among_buildings(lines: dict[str, LineFeature]) -> None:
    street = lines["way/10880732"]
    far = box(*(np.asarray(street.geometry.bounds) + np.array([5000, 5000, 5100, 5100])))
    alone = road_pieces([street], far)
    assert "sidewalk" not in alone.classes
    tagged = road_pieces([lines["way/3986712"]], far)
    assert tagged.classes.count("sidewalk") == 2  # tagged: drawn wherever


def test_bridge_deck_spans_a_valley(lines: dict[str, LineFeature]) -> None:
    bridge = lines["way/24469219"]  # the Eimsbütteler Brücke, tertiary, sidewalks both sides
    pieces = road_pieces([bridge])
    assert pieces.bridges == [True] and pieces.widths[0] == pytest.approx(line_width(bridge) + 2 * W)
    # A valley 6 m deep across the bridge's middle, on a 2 m grid.
    minx, miny, maxx, maxy = bridge.geometry.buffer(30).bounds
    xs = np.arange(minx, maxx, 2.0)
    ys = np.arange(maxy, miny, -2.0)
    mid = bridge.geometry.interpolate(0.5, normalized=True)
    gx, gy = np.meshgrid(xs, ys)
    depth = 6.0 * np.exp(-((np.hypot(gx - mid.x, gy - mid.y) / (bridge.geometry.length / 4)) ** 2))
    grid = HeightGrid(-depth, x0=float(xs[0]), y0=float(ys[0]), step=2.0, crs=CRS)
    surface = mesh_roads(pieces, grid)
    top = surface.normals[:, 2] > 0.99
    z, ground = surface.positions[:, 2], grid.sample(surface.positions[:, 0], surface.positions[:, 1])
    deck_lift = class_lift(CLASS_ORDER[-1]) + LIFT_STEP
    # Never below the ground; above the valley floor where it spans it (not draped into it).
    assert np.all(z[top] >= ground[top] + deck_lift - 1e-6)
    near = np.hypot(surface.positions[:, 0] - mid.x, surface.positions[:, 1] - mid.y) < pieces.widths[0] / 2 + 3
    centre = top & near
    assert centre.any() and np.all(z[centre] - ground[centre] > 4.0)
    # A slab: an underside DECK_THICKNESS below and side walls.
    assert (surface.normals[:, 2] < -0.99).sum() == top.sum()
    assert (np.abs(surface.normals[:, 2]) < 1e-6).any()
    assert np.isclose(z[top].max() - z[surface.normals[:, 2] < -0.99].max(), DECK_THICKNESS)


def test_deck_walls_face_outwards(lines: dict[str, LineFeature]) -> None:
    bridge = lines["way/87726783"]  # a footbridge
    polygon = polygons_of(road_pieces([bridge]).polygons[0])[0]
    deck = mesh_deck(polygon, bridge, None, 0.3)
    walls = np.flatnonzero(np.abs(deck.normals[:, 2]) < 1e-6)
    centre = np.asarray(polygon.centroid.coords)[0]
    outward = deck.positions[walls, :2] - centre
    assert np.mean(np.sum(outward * deck.normals[walls, :2], axis=1) > 0) > 0.95


def test_build_has_sidewalks_and_bridges_valid(tmp_path: Path, gltf_validator) -> None:  # type: ignore[no-untyped-def]
    scene = parse_scene(
        {
            "id": "streets",
            "crs": CRS,
            "sources": [{"name": "osm", "path": str(STREETS), "format": "osm-geojson"}],
            "context": {"margin": 2000.0, "areas": False, "trees": False},
        },
        STREETS.parent,
    )
    build_scene(scene, tmp_path, jobs=1)
    tileset = json.loads((tmp_path / "roads" / "tileset.json").read_text())
    assert validate_tileset_json(tileset) == []
    glbs = [(tmp_path / "roads" / uri).resolve().read_bytes() for uri in _uris(tileset["root"])]
    kinds: set[str] = set()
    for glb in glbs:
        assert validate_glb_extensions(glb) == []
        kinds |= set(read_property_table(*read_glb(glb))["kind"])
    for result in gltf_validator(glbs):
        assert result["numErrors"] == 0 and result["numWarnings"] == 0, result["messages"]
    assert "sidewalk" in kinds and {"minor bridge", "path bridge"} <= kinds


def _uris(tile: dict[str, Any]) -> list[str]:
    own = [tile["content"]["uri"]] if "content" in tile else []
    return own + [u for child in tile.get("children", []) for u in _uris(child)]
