"""Placing a design with the real builder (issue 12): anchored by its footprint's centre, the buildings it
overlaps before and after a build with their shares, the planner's keep choice honoured, streets for the map.

The scene is the Eimsbüttel OSM cut (footprints with OSM addresses, named streets); the design is the pmndrs
GLB house, whose origin lies about 14 m from its footprint: anchoring it by the origin would miss the plot.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from conftest import make_settings
from fastapi.testclient import TestClient
from test_builds import BUILDS, wait

from server import cli
from server.app import create_app
from twin.crs import transform_points

FIXTURES = Path(__file__).parents[1] / "fixtures"
OSM = FIXTURES / "osm" / "hamburg_eimsbuettel_cut.geojson"
HOUSE = FIXTURES / "designs" / "pmndrs_house-5.glb"
MANIFEST = """id = "demo"
title = "Eimsbüttel"
crs = "EPSG:25832"
attribution = ["© OpenStreetMap contributors"]
licenses = ["ODbL-1.0"]

[[sources]]
name = "osm"
path = "footprints.geojson"
format = "osm-geojson"
"""
#: Osterstraße 176: the building the house is put on (its footprint's centroid, lon/lat).
TARGET = "way/55442961"
DESIGNS = "/api/planner/scenes/demo/variants/proposal/designs/house"


class _Env:
    """What test_builds.wait needs: a client and a planner's headers."""

    def __init__(self, client: TestClient, planner: dict[str, str]) -> None:
        self.client, self.planner = client, planner


def _build(env: _Env) -> dict[str, Any]:
    build = env.client.post(BUILDS, headers=env.planner).json()["id"]
    done = wait(env, build, timeout=120)  # type: ignore[arg-type]
    assert done["state"] == "succeeded", done
    return done


def _variant(env: _Env, build: str, tmp: Path) -> dict[str, Any]:
    info = json.loads((tmp / "data" / "scenes" / "demo" / "builds" / build / "scene.json").read_text())
    return next(v for v in info["variants"] if v["id"] == "proposal")


def _centroid(tmp: Path, build: str, bid: str) -> tuple[float, float]:
    from shapely.geometry import shape

    doc = json.loads((tmp / "data" / "scenes" / "demo" / "builds" / build / "buildings.geojson").read_text())
    c = next(shape(f["geometry"]).centroid for f in doc["features"] if f["properties"]["id"] == bid)
    return round(c.x, 7), round(c.y, 7)


def test_place_by_centre_overlaps_keep_and_streets(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, builder="twin.build:build_scene", build_jobs=1)
    scene_dir = tmp_path / "scenes" / "demo"
    (scene_dir / "scene.toml").write_text(MANIFEST, encoding="utf-8")
    shutil.copy(OSM, scene_dir / "footprints.geojson")
    client = TestClient(create_app(settings))
    planner = {"Authorization": "Bearer " + cli.token_create(settings, "planner", ["demo"], "p")}
    env = _Env(client, planner)
    first = _build(env)["id"]

    # Streets with their names, for the map.
    streets = client.get(f"{BUILDS}/{first}/streets", headers=planner)
    assert streets.status_code == 200, streets.text
    names = {f["properties"]["name"] for f in streets.json()["features"]}
    assert {"Müggenkampstraße", "Methfesselstraße", "Schopstraße"} <= names

    up = client.post(
        "/api/planner/scenes/demo/uploads?filename=house.glb", content=HOUSE.read_bytes(), headers=planner
    ).json()
    cx, cy = up["info"]["footprint_centre"]
    assert math.hypot(cx, cy) > 10 and up["info"]["footprint"]  # the origin lies far outside the footprint
    lon, lat = _centroid(tmp_path, first, TARGET)
    anchor = {"lon": lon, "lat": lat, "heading": 90.0, "point": "centre"}

    # Before a build: the placement would remove Osterstraße 176 and touch its neighbours.
    r = client.post(f"{BUILDS}/{first}/overlaps", headers=planner, json={"upload": up["id"], "anchor": anchor})
    assert r.status_code == 200, r.text
    touched = {b["id"]: b for b in r.json()["buildings"]}
    assert touched[TARGET]["removed"] and touched[TARGET]["share"] >= 0.5
    assert touched[TARGET]["address"] == "Osterstraße 176, 20255 Hamburg"
    assert all(0 < b["share"] <= 1 for b in touched.values())
    kept_view = client.post(
        f"{BUILDS}/{first}/overlaps",
        headers=planner,
        json={"upload": up["id"], "anchor": anchor, "keep": [TARGET]},
    ).json()
    mine = next(b for b in kept_view["buildings"] if b["id"] == TARGET)
    assert mine["removed"] is False and mine["choice"] == "keep"
    bad = client.post(f"{BUILDS}/nope/overlaps", headers=planner, json={"upload": up["id"], "anchor": anchor})
    assert bad.status_code == 404

    # Place it keeping the building; the choice is stored with the placement.
    client.put("/api/planner/scenes/demo/variants/proposal", json={"title": "Proposal"}, headers=planner)
    r = client.put(
        DESIGNS, headers=planner, json={"upload": up["id"], "title": "House", "anchor": anchor, "keep": [TARGET]}
    )
    assert r.status_code == 200, r.text
    design = r.json()["designs"][0]
    assert design["keep"] == [TARGET] and design["remove"] == [] and design["anchor"]["point"] == "centre"
    assert "buildings" not in design["anchor"]

    second = _build(env)["id"]
    variant = _variant(env, second, tmp_path)
    placement = variant["designs"][0]["placement"]
    assert placement["anchor_point"] == "centre"
    # The design's footprint centre stands where the planner put it, within 2 cm.
    east, north = transform_points(
        [[placement["footprint_centre"]["lon"], placement["footprint_centre"]["lat"]], [lon, lat]],
        "EPSG:4326",
        "EPSG:25832",
    )
    assert math.hypot(*(east - north)) < 0.02
    assert TARGET not in variant["removed"]
    assert TARGET in {p["id"] for p in variant["partial"]}
    # The other buildings the house stands on went, as the preview said.
    assert set(variant["removed"]) == {b["id"] for b in kept_view["buildings"] if b["removed"]}


def test_overlaps_and_placements_refuse_bad_input(env: Any) -> None:
    """Clear 4xx answers, never a 500: unknown upload or build, an unusable CRS; keeping wins over removing."""
    from buildfolder import box_glb

    up = env.client.post("/api/planner/scenes/demo/uploads", content=box_glb(8.0), headers=env.planner).json()
    builds = f"/api/planner/scenes/demo/builds/{env.published}/overlaps"
    anchor = {"lon": 9.9452, "lat": 53.5799, "point": "centre"}
    r = env.client.post(builds, headers=env.planner, json={"upload": up["id"], "anchor": anchor})
    assert r.status_code == 200, r.text
    assert all(0 < b["share"] <= 1 for b in r.json()["buildings"]) and len(r.json()["site"]) >= 4
    assert env.client.post(builds, headers=env.planner, json={"upload": "u-nope", "anchor": anchor}).status_code == 404
    assert env.client.post(builds, headers=env.other, json={"upload": up["id"], "anchor": anchor}).status_code == 404
    odd = {"easting": 565000.0, "northing": 5933000.0, "crs": "+proj=lol"}
    r = env.client.post(builds, headers=env.planner, json={"upload": up["id"], "anchor": odd})
    assert r.status_code == 422 and "EPSG code" in r.json()["detail"], r.text
    r = env.client.post(builds, headers=env.planner, json={"upload": up["id"], "anchor": {**anchor, "point": "corner"}})
    assert r.status_code == 422
    missing = "/api/planner/scenes/demo/builds/nope/streets"
    assert env.client.get(missing, headers=env.planner).status_code == 404

    env.client.put("/api/planner/scenes/demo/variants/v", json={"title": "V"}, headers=env.planner)
    body = {"upload": up["id"], "title": "Cube", "anchor": anchor, "keep": ["a", "b"], "remove": ["b", "c"]}
    r = env.client.put("/api/planner/scenes/demo/variants/v/designs/cube", headers=env.planner, json=body)
    assert r.status_code == 200, r.text
    (design,) = r.json()["designs"]
    assert (design["keep"], design["remove"]) == (["a", "b"], ["c"]) and design["anchor"]["point"] == "centre"
