"""IFC2X3 georeferencing by ePSet_MapConversion, and IfcSite at lat/lon 0,0 meaning "not georeferenced".

On a real Revit 2011 IFC2X3 export (a wall in Boston, millimetres, IfcSite RefLatitude/RefLongitude), with
the property sets buildingSMART's IFC2X3 georeferencing guide adds to it (issue 12).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.designs import check_design
from twin.designs.georef import place
from twin.designs.load import load_design

from .conftest import FIXTURES

REVIT = FIXTURES / "revit2011_wall1.ifc"
SITE = "#160=IFCSITE("


def with_lines(tmp_path: Path, lines: str, holder: str = "#160") -> Path:
    """The Revit file with property sets ``lines`` (entities #300...) related to ``holder``."""
    text = REVIT.read_text()
    rels = f"#399=IFCRELDEFINESBYPROPERTIES('0DefinesMapConversion0',#33,$,$,({holder}),#310);\n"
    rels += f"#398=IFCRELDEFINESBYPROPERTIES('0DefinesProjectedCRS00',#33,$,$,({holder}),#320);\n"
    path = tmp_path / "georef.ifc"
    path.write_text(text.replace("ENDSEC;\nEND-ISO", lines + rels + "ENDSEC;\nEND-ISO"))
    return path


def psets(east: str, north: str, map_unit: str | None, name: str = "ePSet_MapConversion") -> str:
    height = "5." if map_unit else "5000."
    unit = f"#321=IFCPROPERTYSINGLEVALUE('MapUnit',$,IFCLABEL('{map_unit}'),$);\n" if map_unit else ""
    crs_props = "#311,#321" if map_unit else "#311"
    return (
        f"#301=IFCPROPERTYSINGLEVALUE('Eastings',$,IFCLENGTHMEASURE({east}),$);\n"
        f"#302=IFCPROPERTYSINGLEVALUE('Northings',$,IFCLENGTHMEASURE({north}),$);\n"
        f"#303=IFCPROPERTYSINGLEVALUE('OrthogonalHeight',$,IFCLENGTHMEASURE({height}),$);\n"
        "#304=IFCPROPERTYSINGLEVALUE('XAxisAbscissa',$,IFCREAL(0.9659258263),$);\n"
        "#305=IFCPROPERTYSINGLEVALUE('XAxisOrdinate',$,IFCREAL(0.2588190451),$);\n"
        "#306=IFCPROPERTYSINGLEVALUE('Scale',$,IFCREAL(1.),$);\n"
        f"#310=IFCPROPERTYSET('0MapConversion00000000',#33,'{name}',$,(#301,#302,#303,#304,#305,#306));\n"
        "#311=IFCPROPERTYSINGLEVALUE('Name',$,IFCLABEL('EPSG:26986'),$);\n"
        + unit
        + f"#320=IFCPROPERTYSET('0ProjectedCRS000000000',#33,'ePSet_ProjectedCRS',$,({crs_props}));\n"
    )


def test_the_revit_file_is_georeferenced_by_its_site() -> None:
    d = load_design(REVIT)
    assert d.georef is not None and d.georef.route == "site"
    assert (d.georef.lat, d.georef.lon) == pytest.approx((42.3583, -71.0603), abs=1e-4)
    assert d.storeys[0].name == "Level 1"


def test_site_at_lat_lon_zero_is_not_georeferenced(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.ifc"
    text = REVIT.read_text()
    path.write_text(text.replace("(42,21,29,879999),(-71,-3,-37,-80000)", "(0,0,0),(0,0,0)"))
    assert load_design(path).georef is None
    assert check_design(path).georeferenced is False


@pytest.mark.parametrize(
    ("east", "north", "map_unit", "holder", "name"),
    [
        # The project's unit (mm) without MapUnit, on the IfcSite ...
        ("236000000.", "900000000.", None, "#160", "ePSet_MapConversion"),
        # ... and metres named by MapUnit, on the IfcProject, in the spelling some exporters use.
        ("236000.", "900000.", "METRE", "#34", "EPset_MapConversion"),
    ],
)
def test_ifc2x3_epset_map_conversion(
    tmp_path: Path, east: str, north: str, map_unit: str | None, holder: str, name: str
) -> None:
    d = load_design(with_lines(tmp_path, psets(east, north, map_unit, name), holder))
    ref = d.georef
    assert ref is not None and ref.route == "map_conversion" and ref.crs == "EPSG:26986"
    assert (ref.easting, ref.northing) == pytest.approx((236000.0, 900000.0))
    assert ref.height == pytest.approx(5.0)
    assert ref.x_axis == pytest.approx((0.9659258263, 0.2588190451)) and ref.scale == 1.0
    placement = place(d, "EPSG:26986")
    np.testing.assert_allclose(placement.matrix[:2, 3], [236000.0, 900000.0], atol=1e-3)
    assert placement.route == "map_conversion"


def test_a_design_thousands_of_km_from_its_scene_is_refused() -> None:
    from twin.crs import transform_points
    from twin.designs.georef import check_near_scene
    from twin.errors import DesignError

    # The Revit wall knows it stands in Boston; a Hamburg scene (EPSG:25832) must not take it silently.
    d = load_design(REVIT, name="Wall", source="Wall.ifc")
    placement = place(d, "EPSG:25832")
    hamburg = transform_points(np.array([[9.946, 53.578]]), "EPSG:4326", "EPSG:25832")[0]
    with pytest.raises(DesignError, match=r"'Wall' \(Wall.ifc\) would stand [\d,]+ km from the scene's centre"):
        check_near_scene(d, placement, hamburg)
    # Anchored in the scene, it stands where it is told.
    from twin.designs.model import Anchor

    check_near_scene(d, place(d, "EPSG:25832", Anchor(lon=9.947, lat=53.578)), hamburg)
