"""The one check of a design file (twin.designs.check_design) and the format modules' loader tables."""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

import pytest

from twin.designs import DesignInfo, check_design
from twin.designs.load import FORMAT_MODULES, loader_for
from twin.designs.model import FORMATS
from twin.errors import DesignError, DesignTooLarge

FIXTURES = Path(__file__).parents[1] / "fixtures" / "designs"


def test_every_format_has_one_loader() -> None:
    assert set(FORMAT_MODULES) == set(FORMATS)
    for fmt, module in FORMAT_MODULES.items():
        loaders = importlib.import_module(f"twin.designs.{module}").LOADERS
        assert fmt in loaders and callable(loader_for(fmt))
    with pytest.raises(DesignError, match="unknown design format 'stl'"):
        loader_for("stl")


def test_check_design_returns_what_an_upload_keeps() -> None:
    info = check_design(FIXTURES / "pmndrs_house-5.glb", name="House")
    assert isinstance(info, DesignInfo) and info.format == "glb"
    stored = info.to_dict()
    assert set(stored) == {"triangles", "bounds", "storeys", "georeferenced", "footprint", "footprint_centre"}
    assert stored["triangles"] > 0 and stored["georeferenced"] is False
    (x0, y0, z0), (x1, y1, z1) = stored["bounds"]
    assert 5 < x1 - x0 < 20 and 5 < y1 - y0 < 20 and 3 < z1 - z0 < 12
    # The footprint seen from above: closed rings within the bounds, its centroid metres from the origin.
    rings = stored["footprint"]
    assert rings and all(len(r) >= 4 and r[0] == r[-1] for r in rings)
    assert all(x0 - 0.05 <= x <= x1 + 0.05 and y0 - 0.05 <= y <= y1 + 0.05 for r in rings for x, y in r)
    cx, cy = stored["footprint_centre"]
    assert x0 < cx < x1 and y0 < cy < y1 and (cx**2 + cy**2) ** 0.5 > 5
    json.dumps(stored)  # plain JSON


def test_self_contained_refuses_any_file_reference(tmp_path: Path) -> None:
    doc = {"asset": {"version": "2.0"}, "buffers": [{"uri": "beside.bin", "byteLength": 4}]}
    (tmp_path / "beside.bin").write_bytes(b"\0" * 4)
    path = tmp_path / "d.gltf"
    path.write_text(json.dumps(doc))
    with pytest.raises(DesignError, match=r"buffers\[0\] names an external file 'beside.bin'"):
        check_design(path, self_contained=True)
    (tmp_path / "evil.gltf").write_text(json.dumps({"asset": {"version": "2.0"}, "images": [{"uri": "/etc/passwd"}]}))
    with pytest.raises(DesignError, match="external reference '/etc/passwd' is not allowed"):
        check_design(tmp_path / "evil.gltf")


def test_declared_sizes_are_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "box.gltf"
    shutil.copy(FIXTURES / "box.gltf", path)
    assert check_design(path, max_declared=10_000_000).format == "gltf"
    with pytest.raises(DesignTooLarge, match=r"declares .* bytes of data, more than the limit of 100"):
        check_design(path, max_declared=100)


def test_unexpected_reader_errors_become_design_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from twin.designs import gltf

    def broken(path: Path) -> None:
        raise KeyError("accessors")

    monkeypatch.setitem(gltf.LOADERS, "gltf", broken)
    path = tmp_path / "box.gltf"
    shutil.copy(FIXTURES / "box.gltf", path)
    with pytest.raises(DesignError, match="cannot read the gltf file: KeyError"):
        check_design(path)
