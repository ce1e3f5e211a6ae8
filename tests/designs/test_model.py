"""Manifest tables of designs: DesignSpec and Anchor from dicts, with errors naming the key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.designs.model import Anchor, DesignSpec
from twin.errors import ManifestError

from .conftest import FIXTURES


def test_design_spec_full() -> None:
    spec = DesignSpec.from_dict(
        {
            "file": "AC20-FZK-Haus.ifc",
            "id": "fzk",
            "title": "FZK-Haus",
            "anchor": {"lon": 9.95, "lat": 53.57, "elevation": 12.5, "datum": "DHHN2016", "heading": 15},
            "site": [[0, 0], [10, 0], [10, 10]],
            "site_buffer": 3,
            "cutout_threshold": 0.4,
            "up_axis": "z",
        },
        FIXTURES,
    )
    assert spec.file == FIXTURES / "AC20-FZK-Haus.ifc"
    assert spec.anchor == Anchor(lon=9.95, lat=53.57, elevation=12.5, datum="DHHN2016", heading=15.0)
    assert spec.site is not None and np.array_equal(spec.site[1], [10.0, 0.0])
    assert (spec.site_buffer, spec.cutout_threshold, spec.up_axis) == (3.0, 0.4, "Z")


def test_design_spec_defaults(tmp_path: Path) -> None:
    spec = DesignSpec.from_dict({"file": str(FIXTURES / "box.gltf")}, tmp_path)
    assert (spec.id, spec.title, spec.anchor, spec.site) == ("box", "box", None, None)
    assert (spec.site_buffer, spec.cutout_threshold) == (2.0, 0.5)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, "'file' is required"),
        ({"file": "nope.ifc"}, "does not exist"),
        ({"file": "box.gltf", "colour": "red"}, "unknown keys"),
        ({"file": "box.gltf", "units": "furlong"}, "units"),
        ({"file": "box.gltf", "up_axis": "X"}, "up_axis"),
        ({"file": "box.gltf", "anchor": {"lon": 1}}, "either lon and lat"),
        ({"file": "box.gltf", "anchor": {"lon": "a", "lat": 1}}, r"anchor\.lon"),
        ({"file": "box.gltf", "anchor": {"lon": 1, "lat": 1, "datum": "NN"}}, "datum"),
        ({"file": "box.gltf", "site": [[0, 0], [1, 1]]}, "site"),
        ({"file": "box.gltf", "cutout_threshold": 1.5}, "cutout_threshold"),
        ({"file": "box.gltf", "site_buffer": -1}, "site_buffer"),
    ],
)
def test_design_spec_errors(table: dict, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        DesignSpec.from_dict(table, FIXTURES)


def test_anchor_projected() -> None:
    a = Anchor.from_dict({"easting": 565000, "northing": 5933000, "crs": "EPSG:25832", "scale": 1.5})
    assert (a.easting, a.crs, a.scale, a.datum) == (565000.0, "EPSG:25832", 1.5, "ground")
