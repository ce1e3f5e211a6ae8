"""The planner's names, not the server's stored ones, in the feature metadata and the placement report."""

from __future__ import annotations

from pathlib import Path

from twin.designs.content import _feature_rows
from twin.designs.georef import place
from twin.designs.load import load_design
from twin.designs.model import Anchor, DesignSpec

from .conftest import FIXTURES


def test_planner_names_reach_the_viewer_and_the_report(tmp_path: Path) -> None:
    # An upload is stored as design.glb; the planner called it "Haus am See.glb" and titled it.
    stored = tmp_path / "design.glb"
    stored.write_bytes((FIXTURES / "pmndrs_house-5.glb").read_bytes())
    spec = DesignSpec.from_dict(
        {"file": "design.glb", "id": "haus", "title": "Haus am See", "filename": "Haus am See.glb"}, tmp_path
    )
    assert spec.filename == "Haus am See.glb"
    design = load_design(spec.file, name=spec.title, design_id=spec.id, source=spec.filename)
    rows = _feature_rows(design, {})
    assert {r["source"] for r in rows} == {"Haus am See.glb"} and {r["design"] for r in rows} == {"haus"}
    report = place(design, "EPSG:25832", Anchor(lon=8.4, lat=49.0)).report()
    assert (report["design"], report["design_id"], report["file"]) == ("Haus am See", "haus", "Haus am See.glb")
    assert "design.glb" not in repr(report)
