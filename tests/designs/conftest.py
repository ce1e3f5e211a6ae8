"""Designs loaded once per session: the FZK-Haus IFC takes seconds to tessellate."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.designs.load import load_design
from twin.designs.model import Design

FIXTURES = Path(__file__).parents[1] / "fixtures" / "designs"


@pytest.fixture(scope="session")
def fzk() -> Design:
    """KIT's FZK-Haus (IFC4, metres, 2 storeys, georeferenced through IfcSite only)."""
    return load_design(FIXTURES / "AC20-FZK-Haus.ifc")


@pytest.fixture(scope="session")
def house() -> Design:
    """The pmndrs GLB house (metres, Y up, about 13 x 9 x 7.5 m)."""
    return load_design(FIXTURES / "pmndrs_house-5.glb")
