"""CityGML reader: real SIG3D, NRW and Berlin files, plus small documents built in the tests."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import mapbox_earcut
import numpy as np
import pytest
import shapely
import trimesh
from lxml import etree

from twin.errors import CRSError, SourceError, UnsupportedFormat
from twin.read import citygml
from twin.read.citygml import footprint, read_citygml
from twin.read.gmlcrs import is_lat_lon, parse_srs_name
from twin.records import Building, ReaderOptions, Surface
from twin.report import Report

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "citygml"
SIG3D_2 = FIXTURES / "sig3d_building_and_garage_LOD2_citygml2.gml"
SIG3D_3 = FIXTURES / "sig3d_building_and_garage_LOD2_citygml3.gml"
SIG3D_LOD3 = FIXTURES / "sig3d_building_LOD3_citygml2.gml"
NRW = FIXTURES / "nrw_LoD2_32_364_5650_subset.gml"
BERLIN = FIXTURES / "berlin_mitte_subset.gml"
HOUSE = "GML_7b1a5a6f-ddad-4c3d-a507-3eb9ee0a8e68"
GARAGE = "GMLID_BUI379228_1244_301"


def read(path: Path, report: Report | None = None, crs: str | None = None) -> list[Building]:
    return list(read_citygml(path, options=ReaderOptions(crs=crs), report=report or Report()))


# --- geometry helpers (tests only) -----------------------------------------------------------------------


def area_vector(s: Surface) -> np.ndarray:
    """Oriented area vector of a surface (Newell), holes subtracted whatever their winding."""

    def newell(ring: np.ndarray) -> np.ndarray:
        local = ring - ring[0]
        return np.cross(local, np.roll(local, -1, axis=0)).sum(axis=0) / 2.0

    outer = newell(s.exterior)
    unit = outer / np.linalg.norm(outer)
    return outer - sum((abs(newell(h) @ unit) * unit for h in s.holes), np.zeros(3))


def surface_area(s: Surface) -> float:
    return float(np.linalg.norm(area_vector(s)))


def split_t_junctions(surfaces: tuple[Surface, ...]) -> list[list[np.ndarray]]:
    """Rings with every vertex of the building that lies inside one of their edges inserted there.

    Neighbouring LoD2 polygons often meet in T-junctions (a wall split in two under one roof edge); a
    triangulation is only watertight once those vertices are on both sides.
    """
    rings = [[s.exterior, *s.holes] for s in surfaces]
    vertices = np.unique(np.round(np.concatenate([r for rs in rings for r in rs]), 4), axis=0)
    out = []
    for rs in rings:
        new = []
        for ring in rs:
            points = []
            for a, b in zip(ring, np.roll(ring, -1, axis=0), strict=True):
                points.append(a)
                d = b - a
                length = np.linalg.norm(d)
                t = (vertices - a) @ d / (length * length)
                off = np.linalg.norm(vertices - a - np.outer(t, d), axis=1)
                inside = (t * length > 1e-3) & ((1 - t) * length > 1e-3) & (off < 1e-3)
                points.extend(vertices[inside][np.argsort(t[inside])])
            new.append(np.array(points))
        out.append(new)
    return out


def triangulate(surfaces: tuple[Surface, ...]) -> trimesh.Trimesh:
    """Triangulate every polygon (earcut in its best-fit plane), keeping the polygon's winding."""
    vertices, faces, offset = [], [], 0
    for rings in split_t_junctions(surfaces):
        points = np.concatenate(rings)
        local = rings[0] - rings[0][0]
        normal = np.cross(local, np.roll(local, -1, axis=0)).sum(axis=0)
        drop = int(np.argmax(np.abs(normal)))
        keep = [i for i in range(3) if i != drop]
        ends = np.cumsum([len(r) for r in rings]).astype(np.uint32)
        tris = mapbox_earcut.triangulate_float64(points[:, keep], ends).reshape(-1, 3)
        a, b, c = (points[tris[:, i]] for i in range(3))
        flip = np.einsum("ij,j->i", np.cross(b - a, c - a), normal) < 0
        tris[flip] = tris[flip][:, ::-1]
        vertices.append(points)
        faces.append(tris + offset)
        offset += len(points)
    mesh = trimesh.Trimesh(np.concatenate(vertices), np.concatenate(faces), process=False)
    mesh.merge_vertices(digits_vertex=4)
    return mesh


# --- SIG3D samples: CityGML 2.0 and 3.0 give the same buildings ------------------------------------------


def summary(b: Building) -> dict[str, object]:
    return {
        "id": b.id,
        "parent": b.parent,
        "crs": b.crs,
        "polygons": len(b.surfaces),
        "kinds": Counter(s.kind for s in b.surfaces),
        "area": round(sum(surface_area(s) for s in b.surfaces), 6),
        "footprint": round(b.footprint.area, 6) if b.footprint is not None else None,
        "base": b.base,
        "height": b.height,
        "roof": b.roof,
        "properties": dict(b.properties),
    }


def test_citygml_2_and_3_give_the_same_buildings() -> None:
    v2, v3 = read(SIG3D_2), read(SIG3D_3)
    assert [summary(b) for b in v2] == [summary(b) for b in v3]
    house, garage = v2
    assert (house.id, house.parent, garage.id, garage.parent) == (HOUSE, None, GARAGE, HOUSE)
    assert house.crs == garage.crs == "EPSG:25832+5783"
    assert (len(house.surfaces), len(garage.surfaces)) == (8, 6)
    assert Counter(s.kind for s in house.surfaces) == {"wall": 5, "roof": 2, "ground": 1}
    # 10 m x 5 m house with a gabled roof 3 m eaves / 5 m ridge; 2.5 m garage
    assert house.footprint.area == pytest.approx(50.0)
    assert (house.base, house.height) == (112.0, 6.0)
    assert house.roof.shape == "gabled" and house.roof.height == pytest.approx(2.0)
    assert garage.roof.shape == "skillion" and garage.height == 2.5
    assert dict(house.properties) == {
        "name": "Example Building LOD2",
        "usage": "1000",
        "year": "1985",
        "roof_type": "1030",
        "levels": 1,
        "address": "Hermann-von-Helmholtz-Platz 1, 76344 Eggenstein-Leopoldshafen",
        "lod": 2,
        "height_source": "measured",
    }


def test_orientable_surface_minus_is_reversed() -> None:
    """The garage's west wall is the house's "Wall East 2" seen from the other side."""
    house, garage = read(SIG3D_2)
    east = [s for s in house.surfaces if s.kind == "wall" and np.allclose(s.exterior[:, 0], 458885.0)]
    east2 = next(s for s in east if len(s.exterior) == 4)
    shared = [s for s in garage.surfaces if {tuple(p) for p in s.exterior} == {tuple(p) for p in east2.exterior}]
    assert len(shared) == 1
    assert np.allclose(area_vector(shared[0]), -area_vector(east2))


def solid_ids(path: Path) -> set[str]:
    """gml:ids of the Buildings and BuildingParts in a file that have a lod2Solid."""
    ids = set()
    for el in etree.parse(str(path)).getroot().iter(etree.Element):
        children = el.iterchildren(etree.Element)
        if etree.QName(el).localname in ("Building", "BuildingPart") and any(
            etree.QName(c).localname == "lod2Solid" for c in children
        ):
            ids.add(next(v for k, v in el.attrib.items() if k.endswith("}id")))
    return ids


@pytest.mark.parametrize(
    ("path", "solids"),
    [(SIG3D_2, 2), (SIG3D_3, 2), (NRW, 13), (BERLIN, 2)],
    ids=lambda v: v.stem if isinstance(v, Path) else str(v),
)
def test_surfaces_are_closed_and_outward(path: Path, solids: int) -> None:
    buildings = read(path)
    for b in buildings:
        total = sum((area_vector(s) for s in b.surfaces), np.zeros(3))
        scale = sum(surface_area(s) for s in b.surfaces)
        assert np.linalg.norm(total) < 1e-6 * scale, b.id  # a closed surface's area vectors cancel out
    # Solids must triangulate into watertight meshes. (Boundary-only models need not be manifold: a
    # Berlin courtyard building has walls meeting four at an edge.)
    with_solid = [b for b in buildings if b.id in solid_ids(path)]
    assert len(with_solid) == solids
    for b in with_solid:
        mesh = triangulate(b.surfaces)
        assert mesh.is_watertight, b.id
        assert mesh.is_winding_consistent, b.id
        assert mesh.volume > 0, b.id  # outward normals
        assert mesh.bounds[0][2] == pytest.approx(b.base)


def test_surfaces_are_open_rings_of_3d_points() -> None:
    for b in read(NRW) + read(BERLIN):
        for s in b.surfaces:
            for ring in (s.exterior, *s.holes):
                assert ring.dtype == np.float64 and ring.ndim == 2 and ring.shape[1] == 3
                assert len(ring) >= 3 and not np.array_equal(ring[0], ring[-1])


# --- NRW (CityGML 1.0, AdV) ------------------------------------------------------------------------------


def test_nrw_subset() -> None:
    report = Report()
    buildings = read(NRW, report)
    by_id = {b.id: b for b in buildings}
    # 11 buildings; two of them consist of two parts each and have no geometry of their own
    assert len(buildings) == 13
    assert {b.crs for b in buildings} == {"EPSG:25832+7837"}
    assert "DENW37AL9w0000cW" not in by_id
    parts = [b for b in buildings if b.parent == "DENW37AL9w0000cW"]
    assert sorted(b.id for b in parts) == ["GUID_u2jzrYB5iSR55rT4", "UUID_376af478-584b-4694-a0fe-67b349d3cc6a"]
    tower = by_id["DENW37AL1000dY68"]
    assert tower.height == pytest.approx(31.957)
    assert tower.base == pytest.approx(51.784)
    assert tower.roof.shape == "flat" and tower.properties["roof_type"] == "1000"
    assert tower.properties["height_source"] == "measured"
    shed = by_id["DENW37ALZR00007l"]
    assert shed.height == pytest.approx(1.408)
    assert shed.roof.shape == "gabled" and shed.properties["roof_type"] == "3100"
    assert by_id["DENW37AL1000vEAY"].roof.shape == "hipped"
    mixed = by_id["DENW37AL1000vJnP"]  # 5000 = Mischform: kept as a code, drawn from its surfaces anyway
    assert mixed.roof.shape == "flat" and mixed.properties["roof_type"] == "5000"
    assert report.counts["roof_fallback"] == 2  # 5000 and 9999
    home = by_id["DENW37AL1000vK0s"]
    assert home.properties["address"] == "Waltherstr. 89, Köln"
    assert home.properties["levels"] == 1 and home.properties["usage"] == "31001_2463"
    assert all(b.footprint is not None and b.footprint.is_valid and b.footprint.area > 1 for b in buildings)


def test_solid_references_are_not_drawn_twice() -> None:
    """Each lod2Solid references the boundary polygons by xlink: every polygon element appears once."""
    polygons = etree.parse(str(NRW)).getroot().iter("{http://www.opengis.net/gml}Polygon")
    assert sum(len(b.surfaces) for b in read(NRW)) == sum(1 for _ in polygons) == 105


# --- Berlin (CityGML 2.0, CRS on each building) and LoD3 -------------------------------------------------


def test_berlin_holes_and_building_envelope_crs() -> None:
    buildings = read(BERLIN)
    assert len(buildings) == 5
    assert {b.crs for b in buildings} == {"EPSG:25833"}  # the file has no Envelope: each building has one
    church = next(b for b in buildings if b.id == "BLDG_0003000a00085101")
    holed = [s for s in church.surfaces if s.holes]
    assert sum(len(s.holes) for s in holed) == 2
    hole = holed[0].holes[0]
    # the hole is the file's interior ring without its closing point
    root = etree.parse(str(BERLIN)).getroot()
    texts = [
        e.text
        for e in root.iter("{http://www.opengis.net/gml}posList")
        if e.getparent().getparent().tag.endswith("interior")
    ]
    rings = [np.array(t.split(), dtype=float).reshape(-1, 3) for t in texts]
    assert any(np.array_equal(r[:-1], hole) for r in rings)
    assert surface_area(holed[0]) < surface_area(Surface(holed[0].exterior))


def test_lod3_is_preferred_with_openings_and_holes() -> None:
    (b,) = read(SIG3D_LOD3)
    assert b.properties["lod"] == 3
    assert len(b.surfaces) == 24
    assert sum(len(s.holes) for s in b.surfaces) == 3
    assert Counter(s.kind for s in b.surfaces)[""] == 3  # two windows and a door


# --- small documents ------------------------------------------------------------------------------------

CITYGML2 = """<?xml version="1.0" encoding="UTF-8"?>
<CityModel xmlns="http://www.opengis.net/citygml/2.0" xmlns:gml="http://www.opengis.net/gml"
  xmlns:bldg="http://www.opengis.net/citygml/building/2.0" xmlns:xlink="http://www.w3.org/1999/xlink">
{envelope}
{members}
</CityModel>
"""
ENVELOPE = '<gml:boundedBy><gml:Envelope srsName="{srs}" srsDimension="3"/></gml:boundedBy>'


def ring(points: list[tuple[float, ...]], close: bool = True) -> str:
    values = [*points, points[0]] if close else points
    return "<gml:LinearRing><gml:posList>{}</gml:posList></gml:LinearRing>".format(
        " ".join(str(v) for p in values for v in p)
    )


def polygon(points: list[tuple[float, ...]], gml_id: str = "", holes: tuple[list[tuple[float, ...]], ...] = ()) -> str:
    ident = f' gml:id="{gml_id}"' if gml_id else ""
    inner = "".join(f"<gml:interior>{ring(h)}</gml:interior>" for h in holes)
    return f"<gml:Polygon{ident}><gml:exterior>{ring(points)}</gml:exterior>{inner}</gml:Polygon>"


def boundary(kind: str, *polygons: str, lod: int = 2) -> str:
    members = "".join(f"<gml:surfaceMember>{p}</gml:surfaceMember>" for p in polygons)
    return (
        f"<bldg:boundedBy><bldg:{kind}><bldg:lod{lod}MultiSurface><gml:MultiSurface>{members}"
        f"</gml:MultiSurface></bldg:lod{lod}MultiSurface></bldg:{kind}></bldg:boundedBy>"
    )


def box_polygons(x: float = 0.0, y: float = 0.0, w: float = 10.0, d: float = 6.0, h: float = 4.0) -> dict[str, list]:
    """Outward-wound faces of an axis-aligned box at (x, y, 0)."""
    c = [(x, y), (x + w, y), (x + w, y + d), (x, y + d)]
    walls = [[(*c[i], 0.0), (*c[(i + 1) % 4], 0.0), (*c[(i + 1) % 4], h), (*c[i], h)] for i in range(4)]
    return {
        "GroundSurface": [[(*p, 0.0) for p in reversed(c)]],
        "RoofSurface": [[(*p, h) for p in c]],
        "WallSurface": walls,
    }


def building(body: str, gml_id: str = "B1", extra: str = "") -> str:
    return f'<cityObjectMember><bldg:Building gml:id="{gml_id}">{extra}{body}</bldg:Building></cityObjectMember>'


def box_building(gml_id: str = "B1", extra: str = "", **box: float) -> str:
    faces = box_polygons(**box)
    return building("".join(boundary(k, *(polygon(p) for p in ps)) for k, ps in faces.items()), gml_id, extra)


def write(tmp_path: Path, members: str, srs: str | None = "EPSG:25832", name: str = "t.gml") -> Path:
    path = tmp_path / name
    envelope = ENVELOPE.format(srs=srs) if srs else ""
    path.write_text(CITYGML2.format(envelope=envelope, members=members), encoding="utf-8")
    return path


def test_box_building_fields(tmp_path: Path) -> None:
    (b,) = read(write(tmp_path, box_building(x=100.0, y=200.0)))
    assert b.crs == "EPSG:25832" and b.id == "B1" and b.parent is None
    assert len(b.surfaces) == 6
    assert b.base == 0.0 and b.height == 4.0 and b.properties["height_source"] == "geometry"
    assert b.footprint.equals(shapely.box(100, 200, 110, 206))


def test_measured_height_wins_unless_not_positive(tmp_path: Path) -> None:
    tall = box_building("B1", "<bldg:measuredHeight>7.5</bldg:measuredHeight>")
    flat = box_building("B2", "<bldg:measuredHeight>0</bldg:measuredHeight>", x=20.0)
    report = Report()
    b1, b2 = read(write(tmp_path, tall + flat), report)
    assert (b1.height, b1.properties["height_source"]) == (7.5, "measured")
    assert (b2.height, b2.properties["height_source"]) == (4.0, "geometry")
    assert report.repaired["non-positive measuredHeight ignored"] == 1


def test_highest_lod_wins(tmp_path: Path) -> None:
    lod1 = box_polygons(h=9.0)
    solid = "".join(f"<gml:surfaceMember>{polygon(p)}</gml:surfaceMember>" for ps in lod1.values() for p in ps)
    body = f"<bldg:lod1Solid><gml:Solid><gml:exterior><gml:CompositeSurface>{solid}</gml:CompositeSurface>"
    body += "</gml:exterior></gml:Solid></bldg:lod1Solid>"
    body += "".join(boundary(k, *(polygon(p) for p in ps)) for k, ps in box_polygons(h=4.0).items())
    (b,) = read(write(tmp_path, building(body)))
    assert b.properties["lod"] == 2 and len(b.surfaces) == 6 and b.height == 4.0


def test_xlinks_resolve_inside_the_building_only(tmp_path: Path) -> None:
    faces = box_polygons()
    polys = [polygon(p, f"P{i}") for i, p in enumerate(q for ps in faces.values() for q in ps)]
    refs = "".join(f'<gml:surfaceMember xlink:href="#P{i}"/>' for i in range(len(polys)))
    refs += '<gml:surfaceMember xlink:href="#elsewhere"/>'
    solid = f"<bldg:lod2Solid><gml:Solid><gml:exterior><gml:CompositeSurface>{refs}</gml:CompositeSurface>"
    solid += "</gml:exterior></gml:Solid></bldg:lod2Solid>"
    kinds = [k for k, ps in faces.items() for _ in ps]
    body = solid + "".join(boundary(k, p) for k, p in zip(kinds, polys, strict=True))
    report = Report()
    (b,) = read(write(tmp_path, building(body)), report)
    assert len(b.surfaces) == 6
    assert Counter(s.kind for s in b.surfaces) == {"wall": 4, "ground": 1, "roof": 1}
    assert report.repaired["unresolved xlink:href dropped"] == 1


def test_degenerate_polygons_are_dropped_and_reported(tmp_path: Path) -> None:
    faces = box_polygons()
    bad = [
        polygon([(0, 0, 0), (1, 1, 1), (0, 0, 0)]),  # two distinct points
        polygon([(0, 0, 0), (1, 1, 1), (2, 2, 2), (3, 3, 3)]),  # collinear
        polygon([(0, 0, 0), (1, 0, float("nan")), (1, 1, 0)]),
        "<gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>1 2 3 4</gml:posList></gml:LinearRing>"
        "</gml:exterior></gml:Polygon>",
    ]
    body = "".join(boundary(k, *(polygon(p) for p in ps)) for k, ps in faces.items()) + boundary("WallSurface", *bad)
    only_bad = building(boundary("RoofSurface", *bad[:2]), gml_id="B2")
    report = Report()
    buildings = read(write(tmp_path, building(body) + only_bad), report)
    assert [b.id for b in buildings] == ["B1"] and len(buildings[0].surfaces) == 6
    assert report.repaired["degenerate polygon dropped"] == 6
    assert report.skipped["no usable polygon"] == 1 and report.examples["skipped: no usable polygon"] == ["B2"]


def test_pos_coordinates_and_dimension(tmp_path: Path) -> None:
    pos = "".join(f"<gml:pos>{x} {y} 5</gml:pos>" for x, y in [(0, 0), (4, 0), (4, 3), (0, 3), (0, 0)])
    coords = '<gml:coordinates decimal="," cs=";" ts=" ">10;0;5 14;0;5 14;3;5 10;0;5</gml:coordinates>'
    two_d = '<gml:posList srsDimension="2">20 0 24 0 24 3 20 0</gml:posList>'
    polys = [
        f"<gml:Polygon><gml:exterior><gml:LinearRing>{r}</gml:LinearRing></gml:exterior></gml:Polygon>"
        for r in (pos, coords, two_d)
    ]
    (b,) = read(write(tmp_path, building(boundary("RoofSurface", *polys))))
    assert [len(s.exterior) for s in b.surfaces] == [4, 3, 3]
    assert np.array_equal(b.surfaces[1].exterior[1], [14.0, 0.0, 5.0])
    assert np.array_equal(b.surfaces[2].exterior[:, 2], [0.0, 0.0, 0.0])
    # no ground surface: the footprint is the roofs' outline
    assert b.footprint.area == pytest.approx(12 + 6 + 6)


def test_citygml3_and_address_3(tmp_path: Path) -> None:
    doc = SIG3D_3.read_text(encoding="utf-8")
    assert "<xAL:PostCode>" in doc  # the 3.0 sample uses xAL 3
    (house, _garage) = read(SIG3D_3)
    assert house.properties["address"] == "Hermann-von-Helmholtz-Platz 1, 76344 Eggenstein-Leopoldshafen"
    assert house.height == 6.0 and house.properties["year"] == "1985"


# --- CRS --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("srs", "expected"),
    [
        ("EPSG:25832", "EPSG:25832"),
        ("urn:ogc:def:crs:EPSG::25832", "EPSG:25832"),
        ("urn:ogc:def:crs:EPSG:6.12:25833", "EPSG:25833"),
        ("http://www.opengis.net/def/crs/EPSG/0/25832", "EPSG:25832"),
        ("urn:ogc:def:crs,crs:EPSG::25832,crs:EPSG::5783", "EPSG:25832+5783"),
        (
            "http://www.opengis.net/def/crs-compound?1=http://www.opengis.net/def/crs/EPSG/0/25833"
            "&2=http://www.opengis.net/def/crs/EPSG/0/7837",
            "EPSG:25833+7837",
        ),
        ("urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH*GCG2016", "EPSG:25832+7837"),
        ("urn:adv:crs:ETRS89_UTM33*DE_DHHN92_NH", "EPSG:25833+5783"),
        ("urn:adv:crs:ETRS89_UTM32", "EPSG:25832"),
        ("urn:adv:crs:DE_DHDN_3GK3*DE_DHHN92_NH", "EPSG:31467+5783"),
    ],
)
def test_parse_srs_name(srs: str, expected: str) -> None:
    assert parse_srs_name(srs) == expected


@pytest.mark.parametrize("srs", ["urn:adv:crs:MARS_UTM99", "urn:adv:crs:ETRS89_UTM32*MOON_NH", "no such crs", ""])
def test_unknown_srs_name(srs: str) -> None:
    with pytest.raises(CRSError):
        parse_srs_name(srs)


def test_lat_lon_axis_order(tmp_path: Path) -> None:
    assert is_lat_lon("http://www.opengis.net/def/crs/EPSG/0/6697")
    assert not is_lat_lon("EPSG:4326") and not is_lat_lon("urn:ogc:def:crs:EPSG::25832")
    square = [(35.0, 139.0, 10.0), (35.0, 139.001, 10.0), (35.001, 139.001, 10.0), (35.001, 139.0, 10.0)]
    path = write(
        tmp_path, building(boundary("RoofSurface", polygon(square))), "http://www.opengis.net/def/crs/EPSG/0/6697"
    )
    (b,) = read(path)
    assert b.crs == "EPSG:6697"
    assert np.array_equal(b.surfaces[0].exterior[0], [139.0, 35.0, 10.0])  # (lon, lat, h)


def test_crs_needed_and_override(tmp_path: Path) -> None:
    path = write(tmp_path, box_building(), srs=None)
    with pytest.raises(SourceError, match="no srsName"):
        read(path)
    (b,) = read(path, crs="EPSG:3035")
    assert b.crs == "EPSG:3035"
    (b,) = read(write(tmp_path, box_building(), name="u.gml"), crs="EPSG:3035")  # override wins
    assert b.crs == "EPSG:3035"
    with pytest.raises(CRSError):
        read(path, crs="EPSG:nonsense")


def test_geometry_srs_name_beats_the_file_envelope(tmp_path: Path) -> None:
    member = box_building().replace("<gml:Polygon>", '<gml:Polygon srsName="EPSG:25833">', 1)
    (b,) = read(write(tmp_path, member, srs="EPSG:25832"))
    assert b.crs == "EPSG:25833"


# --- broken files -----------------------------------------------------------------------------------------


def test_truncated_file(tmp_path: Path) -> None:
    text = NRW.read_text(encoding="utf-8")
    cut = tmp_path / "cut.gml"
    cut.write_text(text[: len(text) // 2], encoding="utf-8")
    buildings = []
    with pytest.raises(SourceError, match=r"cut\.gml: line \d+"):
        buildings.extend(read_citygml(cut, options=ReaderOptions(), report=Report()))
    assert 0 < len(buildings) < 13  # what came before the break was read


def test_not_citygml(tmp_path: Path) -> None:
    other = tmp_path / "other.xml"
    other.write_text('<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"/>')
    with pytest.raises(UnsupportedFormat, match="not CityGML"):
        read(other)
    garbage = tmp_path / "garbage.gml"
    garbage.write_bytes(b"\x00\x01 this is not xml")
    with pytest.raises(SourceError, match=r"garbage\.gml"):
        read(garbage)
    with pytest.raises(SourceError, match="no such file"):
        read(tmp_path / "missing.gml")


def test_footprint_is_valid_for_self_touching_roofs() -> None:
    bow = Surface(np.array([[0, 0, 1], [2, 2, 1], [2, 0, 1], [0, 2, 1]], dtype=float), kind="roof")  # a bowtie
    result = footprint([bow])
    assert result is not None and result.is_valid and result.area == pytest.approx(2.0)


# --- memory ---------------------------------------------------------------------------------------------


def large_file(tmp_path: Path, copies: int) -> Path:
    """The SIG3D house and garage ``copies`` times, with ids made unique per copy."""
    text = SIG3D_2.read_text(encoding="utf-8")
    start = text.index("<cityObjectMember>")
    end = text.index("</cityObjectMember>") + len("</cityObjectMember>")
    member = text[start:end]
    path = tmp_path / "large.gml"
    with path.open("w", encoding="utf-8") as out:
        out.write(text[:start])
        for i in range(copies):
            out.write(re.sub(r'(gml:id="|xlink:href="#)([^"]+)"', rf'\1\2_{i}"', member))
        out.write(text[end:])
    return path


def resident_bytes() -> int | None:
    """Current resident set size of this process (Linux), None elsewhere."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def test_memory_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Elements are freed as buildings are read: memory does not grow with the number of buildings."""
    path = large_file(tmp_path, 1000)
    size = path.stat().st_size
    assert size > 10_000_000
    last: list[etree._Element] = []
    original = citygml.etree.iterparse

    def spy(*args: object, **kwargs: object) -> Iterator[tuple[str, etree._Element]]:
        for event, element in original(*args, **kwargs):
            last[:] = [element]
            yield event, element

    monkeypatch.setattr(citygml.etree, "iterparse", spy)
    live, rss = [], []
    count, last_id = 0, ""
    for b in read_citygml(path, options=ReaderOptions(), report=Report()):
        count, last_id = count + 1, b.id
        if count % 100 == 0:  # the tree as it is while the consumer holds a building
            live.append(sum(1 for _ in last[0].getroottree().getroot().iter()))
            rss.append(resident_bytes())
    assert count == 2000 and last_id == f"{GARAGE}_999"
    one_building = sum(1 for _ in etree.parse(str(SIG3D_2)).getroot().iter())
    # What is alive is the building being read plus what libxml2 parsed ahead in its 32 KB read chunks: a
    # few buildings at most, and not growing (without freeing it would reach 1000 buildings).
    assert max(live) < 5 * one_building
    assert max(live[-3:]) <= max(live[:3]) + one_building
    # Measured: after the first 100 buildings the resident size grew 0.1 MB reading this 14 MB file, and
    # 80 MB with the freeing switched off.
    if rss[0] is not None:
        assert max(rss) - rss[0] < size / 10
