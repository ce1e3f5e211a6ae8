"""IFC files as other offices write them: spatial volumes, unset storey elevations, spaces without quantities.

Each case is the real FZK-Haus changed the way those files differ (issue 12): a "Facade"
IfcExternalSpatialElement and an IfcSpatialZone wrapping walls, the upper storey's Elevation left unset
(``$``), and the spaces' and storeys' quantity sets taken out (an early-design export).
"""

from __future__ import annotations

import ifcopenshell
import ifcopenshell.api.root
import pytest

from twin.designs.load import load_design
from twin.designs.metrics import metrics
from twin.designs.model import Design

from .conftest import FIXTURES


@pytest.fixture(scope="module")
def early_design(tmp_path_factory: pytest.TempPathFactory) -> Design:
    text = (FIXTURES / "AC20-FZK-Haus.ifc").read_text(encoding="latin-1")
    unset = text.replace("'ACID00000002-0000-0000-0000-000000000000',.ELEMENT.,2.7);", "'ACID2',.ELEMENT.,$);")
    assert unset != text
    path = tmp_path_factory.mktemp("ifc") / "early.ifc"
    path.write_text(unset, encoding="latin-1")
    f = ifcopenshell.open(str(path))
    wall = f.by_type("IfcWall")[0]
    for cls, name in (("IfcExternalSpatialElement", "Facade"), ("IfcSpatialZone", "Fire zone")):
        volume = ifcopenshell.api.root.create_entity(f, ifc_class=cls, name=name)
        volume.ObjectPlacement, volume.Representation = wall.ObjectPlacement, wall.Representation
    for element in [*f.by_type("IfcSpace"), *f.by_type("IfcBuildingStorey")]:
        for rel in list(element.IsDefinedBy or ()):
            if rel.is_a("IfcRelDefinesByProperties") and rel.RelatingPropertyDefinition.is_a("IfcElementQuantity"):
                f.remove(rel)
    f.write(str(path))
    return load_design(path)


def test_spatial_elements_are_never_geometry(early_design: Design, fzk: Design) -> None:
    usages = {p["usage"] for p in early_design.parts.values()}
    assert not usages & {"IfcSpace", "IfcExternalSpatialElement", "IfcSpatialZone", "IfcOpeningElement"}
    assert sorted(early_design.parts) == sorted(fzk.parts)


def test_unset_storey_elevation_comes_from_the_placement(early_design: Design) -> None:
    assert [(s.name, s.elevation) for s in early_design.storeys] == [("Erdgeschoss", 0.0), ("Dachgeschoss", 2.7)]


def test_gross_floor_area_from_space_geometry(early_design: Design, fzk: Design) -> None:
    assert fzk.space_area_source == "quantities" and fzk.space_area is not None
    m = metrics(early_design)
    assert early_design.space_area_source == "geometry"
    assert m["gfa_source"] == "ifc_space_geometry"
    # The spaces' plans measure what their quantity sets say, within a few per cent (walls, rounding).
    assert m["gross_floor_area"] == pytest.approx(fzk.space_area, rel=0.05)
    assert m["footprint_area_source"] == "mesh" and m["height_source"] == "mesh"
    assert metrics(fzk)["gfa_source"] == "ifc_storeys"
