"""A small mixed scene for the distributed-build tests: a GeoPackage cut into row ranges, the same footprints
again as GeoJSON (cross-partition duplicate ids) and an OSM export, with tiles small enough for a deep tree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "osm"


def mixed_scene(folder: Path, *extra_sources: Path) -> Path:
    """Write ``folder/scene.toml`` over the Hamburg fixtures (plus ``extra_sources``, footprint files)."""
    folder.mkdir(parents=True, exist_ok=True)
    sources = [
        ("gpkg", FIXTURES / "hamburg_footprints.gpkg", "footprints"),
        ("gj", FIXTURES / "hamburg_footprints_25832.geojson", "footprints"),
        ("osm", FIXTURES / "hamburg_eimsbuettel_cut.geojson", "osm-geojson"),
        *((p.stem, p, "footprints") for p in extra_sources),
    ]
    text = (
        'id = "dask-mixed"\ncrs = "EPSG:25832"\n[defaults]\nheight_attribute = "hoehe"\nid_attribute = "oid"\n'
        "max_tile_side = 60.0\ntile_budget = 400\n[build]\npartition_rows = 3\ntask_buildings = 20\n"
    )
    for name, path, fmt in sources:
        text += f'[[sources]]\nname = "{name}"\npath = "{path}"\nformat = "{fmt}"\n'
    (folder / "scene.toml").write_text(text)
    return folder


def tileset(out: Path) -> dict[str, Any]:
    """tileset.json without its build id (the one thing two builds of the same scene must differ in)."""
    data = json.loads((out / "tileset.json").read_text())
    data["asset"].pop("tilesetVersion", None)
    return data


def blobs(out: Path) -> dict[str, bytes]:
    """The build's blobs, name → bytes."""
    return {p.name: p.read_bytes() for p in sorted((out / "blobs").iterdir())}
