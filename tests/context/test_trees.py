"""Trees: points, rows and scattered woods as instances; the instanced glb is valid and carries tags."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from shapely.geometry import LineString, Point, Polygon

from twin.context.context_layer import encode_trees
from twin.context.records import AreaFeature, LineFeature, PointFeature
from twin.context.trees import DEFAULT_HEIGHT, SCATTER_CAP, place_trees, scatter_points, shape_meshes
from twin.crs import Frame
from twin.encode.glb import read_glb, read_property_table
from twin.read.osmcontext import read_osm_context
from twin.report import Report
from twin.validate import validate_glb_extensions

CRS = "EPSG:25832"


def _trees():  # type: ignore[no-untyped-def]
    oak = PointFeature("node/1", "t", CRS, "tree", Point(565000, 5933000), 18.0, None, {"natural": "tree"})
    pine = PointFeature("node/2", "t", CRS, "tree", Point(565010, 5933000), None, None, {"leaf_type": "needleleaved"})
    row = LineFeature("way/3", "t", CRS, "tree_row", LineString([(565000, 5933020), (565040, 5933020)]), None, {})
    wood = AreaFeature(
        "way/4",
        "t",
        CRS,
        "forest",
        Polygon([(565100, 5933000), (565200, 5933000), (565200, 5933100), (565100, 5933100)]),
    )
    return place_trees([oak, pine], [row], [wood])


def test_points_rows_and_woods() -> None:
    trees = _trees()
    assert [r["kind"] for r in trees.rows] == ["tree", "tree", "tree_row", "scattered"]
    assert trees.heights[0] == 18.0 and trees.heights[1] == DEFAULT_HEIGHT["needleleaved"]
    assert trees.shapes[0] == 0 and trees.shapes[1] == 1
    assert (trees.feature == 2).sum() == 5  # 40 m at 8 m spacing
    assert 60 <= (trees.feature == 3).sum() <= 100  # a hectare of forest at 10 m
    assert np.all(trees.positions[:, 2] == 0)


def test_scatter_is_reproducible_and_capped() -> None:
    square = Polygon([(0, 0), (1000, 0), (1000, 1000), (0, 1000)])
    a, b = scatter_points(square, 5.0, "way/1"), scatter_points(square, 5.0, "way/1")
    assert np.array_equal(a, b) and len(a) <= SCATTER_CAP


def test_shapes_face_outwards() -> None:
    for shape in shape_meshes():
        for positions, normals, faces, _ in shape.parts:
            a, b, c = (positions[faces[:, k]].astype(np.float64) for k in range(3))
            facing = np.einsum("ij,ij->i", np.cross(b - a, c - a), normals[faces[:, 0]])
            assert (facing >= -1e-9).mean() > 0.9
        assert shape.triangles < 100


def test_instanced_glb_is_valid_and_has_tags(gltf_validator) -> None:  # type: ignore[no-untyped-def]
    trees = _trees()
    frame = Frame.from_bounds(CRS, (565000, 5933000, 565200, 5933100))
    content = encode_trees(trees, frame)
    gltf, binary = read_glb(content.glb)
    assert "EXT_mesh_gpu_instancing" in gltf["extensionsRequired"]
    counts = [
        gltf["accessors"][n["extensions"]["EXT_mesh_gpu_instancing"]["attributes"]["TRANSLATION"]]["count"]
        for n in gltf["nodes"]
    ]
    assert sum(counts) == len(trees)
    table = read_property_table(gltf, binary)
    assert table["id"][:2] == ["node/1", "node/2"] and json.loads(table["tags"][0]) == {"natural": "tree"}
    assert validate_glb_extensions(content.glb) == []
    (report,) = gltf_validator([content.glb])
    assert report["numErrors"] == 0, report["messages"]


OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
 <node id="1" lat="53.570" lon="9.950"/><node id="2" lat="53.571" lon="9.951"/>
 <node id="3" lat="53.570" lon="9.951"><tag k="natural" v="tree"/><tag k="leaf_type" v="broadleaved"/></node>
 <node id="4" lat="53.5705" lon="9.9505"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
 <way id="11"><nd ref="1"/><nd ref="3"/><nd ref="2"/><nd ref="1"/><tag k="leisure" v="park"/></way>
 <way id="12"><nd ref="1"/><nd ref="4"/><tag k="building" v="yes"/></way>
</osm>
"""


def test_reader_yields_context_of_an_osm_file(tmp_path: Path) -> None:
    path = tmp_path / "small.osm"
    path.write_text(OSM)
    elements = {(e.id, e.geometry.geom_type) for e in read_osm_context(path, report=Report())}
    assert ("node/3", "Point") in elements and ("way/10", "LineString") in elements
    assert ("way/11", "Polygon") in elements
    assert not any(ident == "way/12" for ident, _ in elements)
