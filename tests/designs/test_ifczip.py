"""ifcZIP designs (one IFC inside, size and ratio limits) and ifcXML refused as such (issue 12)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from twin.designs import check_design
from twin.designs.load import load_design, sniff
from twin.designs.model import Design
from twin.errors import DesignError, DesignTooLarge

from .conftest import FIXTURES

FZK = FIXTURES / "AC20-FZK-Haus.ifc"


def ifczip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_ifczip_reads_the_ifc_inside(tmp_path: Path, fzk: Design) -> None:
    # What Revit, ArchiCAD and BlenderBIM write as .ifcZIP: the IFC deflated, here with a macOS fork beside it.
    path = ifczip(
        tmp_path / "haus.ifczip", {"AC20-FZK-Haus.ifc": FZK.read_bytes(), "__MACOSX/._AC20-FZK-Haus.ifc": b"x"}
    )
    assert sniff(path) == "ifczip"
    design = load_design(path)
    assert design.format == "ifczip" and design.source == "haus.ifczip"
    np.testing.assert_allclose(design.bounds, fzk.bounds, atol=1e-9)
    assert sorted(design.parts) == sorted(fzk.parts)
    assert [s.name for s in design.storeys] == [s.name for s in fzk.storeys]
    info = check_design(path, max_declared=10 * FZK.stat().st_size)
    assert info.format == "ifczip" and info.triangles == fzk.triangle_count
    assert not list(tmp_path.glob("**/design.ifc"))  # the unpacked copy is gone


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"a.ifc": b"x", "sub/b.IFC": b"y"}, r"holds 2 IFC files \(a.ifc, sub/b.IFC\)"),
        ({"readme.txt": b"hello", "plan.pdf": b"%PDF"}, r"without an IFC file \(it holds readme.txt, plan.pdf\)"),
        ({"model.ifcXML": b"<ifcXML/>"}, "ifcXML, which is not supported"),
        ({"model.ifc": b"not a step file"}, "unreadable IFC"),
    ],
)
def test_bad_archives_get_clear_errors(tmp_path: Path, members: dict[str, bytes], message: str) -> None:
    path = ifczip(tmp_path / "design.zip", members)
    with pytest.raises(DesignError, match=message):
        check_design(path)


def test_broken_zip(tmp_path: Path) -> None:
    path = tmp_path / "design.ifczip"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(DesignError, match="zip archive that cannot be read"):
        sniff(path)


def test_sizes_are_refused_before_unpacking(tmp_path: Path) -> None:
    path = ifczip(tmp_path / "haus.ifczip", {"haus.ifc": FZK.read_bytes()})
    with pytest.raises(DesignTooLarge, match=r"unpacks to .* more than the limit of 1,000"):
        check_design(path, max_declared=1000)
    # 16 MB of one byte packs about 1000:1, which no IFC does: a bomb, refused whatever the limit.
    bomb = ifczip(tmp_path / "bomb.ifczip", {"bomb.ifc": b"ISO-10303-21;" + b" " * (16 << 20)})
    with pytest.raises(DesignTooLarge, match="compression bomb"):
        check_design(bomb, max_declared=1 << 30)
    with pytest.raises(DesignTooLarge, match="compression bomb"):
        load_design(bomb)


def test_ifcxml_is_refused_as_such(tmp_path: Path) -> None:
    path = tmp_path / "model.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<ifcXML xmlns="http://www.buildingsmart-tech.org/ifcXML/IFC4/final" '
        'xsi:schemaLocation="http://www.buildingsmart-tech.org/ifcXML/IFC4/final IFC4.xsd"/>\n'
    )
    with pytest.raises(DesignError, match="ifcXML is not supported"):
        load_design(path)
