"""Cut this scene's data from the project's shared real data (run by hand, not by the build or the tests).

    .venv/bin/python scenes/bayreuth/data/cut_data.py /path/to/shared/data

- bayreuth_north_cut.osm.gz: every node inside OSM_BBOX, every way with a node inside it, and the multipolygon
  and building relations with a member way inside it, written with all the nodes and member ways they
  reference (pyosmium's BackReferenceWriter), so ways cut by the box stay whole.
- bayreuth_srtm3.tif: the pixels of the SRTM3 tile N49E011.hgt.zip inside DEM_BBOX, unchanged (a window
  read and written as a deflate GeoTIFF, no resampling).
"""

from __future__ import annotations

import sys
from pathlib import Path

import osmium
import rasterio
from rasterio.windows import Window

HERE = Path(__file__).parent
#: The extract ("north of Bayreuth", 2014) holds the villages and districts north of the city, not its centre.
#: South of 50° N (where the SRTM tile ends) its densest part with relief is Bayreuth's northern edge and
#: Bindlach's Crottendorf: Stöckig, Röthelbach, Weiherhaus, Zettlitz; 1.8 km × 2.8 km, about 570 buildings,
#: 346–438 m.
OSM_BBOX = (11.590, 49.965, 11.615, 49.990)
#: The DEM window: the OSM box plus about 1.5 km around (to 50° N, the tile's edge), so the terrain reaches
#: the slopes around.
DEM_BBOX = (11.565, 49.950, 11.640, 50.000)
_RELATION_TYPES = ("multipolygon", "building")


def cut_osm(src: Path) -> None:
    west, south, east, north = OSM_BBOX
    inside_nodes: set[int] = set()
    for n in osmium.FileProcessor(str(src)).with_filter(osmium.filter.EntityFilter(osmium.osm.NODE)):
        if n.location.valid() and west <= n.lon <= east and south <= n.lat <= north:
            inside_nodes.add(n.id)
    ways: set[int] = set()
    for w in osmium.FileProcessor(str(src)).with_filter(osmium.filter.EntityFilter(osmium.osm.WAY)):
        if any(r.ref in inside_nodes for r in w.nodes):
            ways.add(w.id)
    out = HERE / "bayreuth_north_cut.osm.gz"
    with osmium.BackReferenceWriter(str(out), ref_src=str(src), overwrite=True) as writer:
        for obj in osmium.FileProcessor(str(src)):
            if _keep(obj, inside_nodes, ways):
                writer.add(obj)


def _keep(obj: osmium.osm.OSMObject, nodes: set[int], ways: set[int]) -> bool:
    if obj.is_node():
        return obj.id in nodes
    if obj.is_way():
        return obj.id in ways
    return obj.tags.get("type") in _RELATION_TYPES and any(m.type == "w" and m.ref in ways for m in obj.members)


def cut_dem(src: Path) -> None:
    with rasterio.open(src) as ds:
        west, south, east, north = DEM_BBOX
        row0, col0 = ds.index(west, north)
        row1, col1 = ds.index(east, south)
        window = Window(col0, row0, col1 - col0 + 1, row1 - row0 + 1)
        data = ds.read(1, window=window)
        profile = ds.profile | {
            "driver": "GTiff",
            "width": data.shape[1],
            "height": data.shape[0],
            "transform": ds.window_transform(window),
            "compress": "deflate",
            "predictor": 2,
        }
    with rasterio.open(HERE / "bayreuth_srtm3.tif", "w", **profile) as out:
        out.write(data, 1)


if __name__ == "__main__":
    shared = Path(sys.argv[1])
    cut_osm(shared / "osm" / "bayreuth_north.osm.gz")
    cut_dem(shared / "terrain" / "N49E011.hgt.zip")
