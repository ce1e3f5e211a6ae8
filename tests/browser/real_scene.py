"""The builder's real output for the browser tests: a small Eimsbüttel scene with one design variant,
built by ``twin.build.build_scene``, published into a scene server (``server.app.create_app``) and served by
uvicorn on a free port, viewer included.

The scene is the OSM fixture ``osm/hamburg_eimsbuettel_cut.geojson`` (153 buildings plus the Hamburg-Haus)
and one variant that puts the glTF house ``designs/pmndrs_house-5.glb`` onto the plot of "Kita Sillem"
(way/33200551), which it replaces. Both tilesets are Draco-compressed like the demo.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from helpers import serve_in_thread
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parents[2]
OSM = ROOT / "tests" / "fixtures" / "osm" / "hamburg_eimsbuettel_cut.geojson"
HOUSE = ROOT / "tests" / "fixtures" / "designs" / "pmndrs_house-5.glb"
SCENE_ID = "eimsbuettel-cut"
VARIANT = "house"
#: The building the variant replaces, and the house's centre in its own frame (metres east, north of
#: its origin: the glb's origin lies beside the house, see scenes/hamburg-eimsbuettel/scene.toml).
REPLACED = "way/33200551"
HOUSE_CENTRE = (10.0, -10.0)

MANIFEST = """\
id = "{id}"
title = "Eimsbüttel (test cut)"
crs = "EPSG:25832"
z0_height = 51.5
attribution = ["© OpenStreetMap contributors"]
licenses = ["ODbL-1.0"]

[defaults]
height = 9.0

[[sources]]
name = "osm"
path = "{osm}"
format = "osm-geojson"

[[variants]]
id = "{variant}"
title = "House on the Kita plot"
[[variants.designs]]
file = "{house}"
id = "house-5"
title = "House (glTF)"
anchor = {{ lon = {lon:.7f}, lat = {lat:.7f}, elevation = 0.0, datum = "ground", heading = 0.0 }}
site = {site}
"""


@dataclass(frozen=True)
class RealScene:
    """A built and published scene: where it is served and what the tests look for in it."""

    base: str
    scene: dict[str, Any]
    buildings: dict[str, dict[str, Any]]

    def enu(self, lon: float, lat: float) -> tuple[float, float]:
        """East and north metres of a WGS 84 point from the scene origin."""
        return enu_of(lon, lat, self.scene["origin"])

    def building_enu(self, building_id: str) -> tuple[float, float]:
        """A point inside a building's footprint, in ENU metres."""
        p = self.buildings[building_id]["point"]
        return self.enu(p[0], p[1])


def enu_of(lon: float, lat: float, origin: dict[str, float]) -> tuple[float, float]:
    """East and north metres of a WGS 84 point from ``origin`` ({lon, lat, height})."""
    from twin.crs import enu_to_ecef_matrix, geodetic_to_ecef

    m = enu_to_ecef_matrix(origin["lon"], origin["lat"], origin["height"])
    p = geodetic_to_ecef(np.array([lon]), np.array([lat]), np.array([origin["height"]]))[0]
    enu = np.linalg.solve(m, np.append(p, 1.0))
    return float(enu[0]), float(enu[1])


def write_manifest(folder: Path) -> Path:
    """scene.toml in ``folder``: the house anchored so that it stands on the replaced building's plot."""
    features = {f["id"]: f for f in json.loads(OSM.read_text(encoding="utf-8"))["features"]}
    plot = shape(features[REPLACED]["geometry"])
    target = plot.representative_point()
    # Metres to degrees at this latitude (a few metres of offset: the flat-earth step is exact enough).
    dlat = 1 / 111_200.0
    dlon = 1 / (111_320.0 * np.cos(np.radians(target.y)))
    lon = target.x - HOUSE_CENTRE[0] * dlon
    lat = target.y - HOUSE_CENTRE[1] * dlat
    # The site is the plot itself (plus a metre): the cut-out removes what lies mostly inside it.
    w, s, e, n = plot.bounds
    w, e, s, n = w - dlon, e + dlon, s - dlat, n + dlat
    ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
    site = json.dumps(ring)
    text = MANIFEST.format(
        id=SCENE_ID, osm=OSM.as_posix(), variant=VARIANT, house=HOUSE.as_posix(), lon=lon, lat=lat, site=site
    )
    path = folder / "scene.toml"
    path.write_text(text, encoding="utf-8")
    return path


@contextlib.contextmanager
def build_and_serve(tmp: Path) -> Iterator[RealScene]:
    """Build the scene into ``tmp``, publish it into a fresh data dir and serve it (viewer at ``/``)."""
    from server.app import create_app
    from server.cli import publish_folder
    from server.settings import Settings
    from twin.build import build_scene
    from twin.scene import load_scene

    (tmp / "manifest").mkdir()
    (tmp / "scenes").mkdir()
    build = tmp / "build"
    build_scene(load_scene(write_manifest(tmp / "manifest")), build)
    settings = Settings(data_dir=tmp / "data", scenes_dir=tmp / "scenes")
    publish_folder(settings, SCENE_ID, build)
    buildings = {}
    for f in json.loads((build / "buildings.geojson").read_text(encoding="utf-8"))["features"]:
        point = shape(f["geometry"]).representative_point()
        buildings[f["properties"]["id"]] = {**f["properties"], "point": (point.x, point.y)}
    with serve_in_thread(create_app(settings)) as base:
        import urllib.request

        with urllib.request.urlopen(f"{base}/api/scenes/{SCENE_ID}") as r:
            scene = json.load(r)
        yield RealScene(base, scene, buildings)
