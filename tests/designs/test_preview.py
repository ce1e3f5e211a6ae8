"""The off-screen preview shows the design (not a blank picture)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from twin.designs.model import Design
from twin.designs.preview import preview_png


def test_preview_not_blank(house: Design) -> None:
    png = preview_png(house, size=(320, 240))
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert image.shape == (240, 320, 3)
    drawn = np.any(image < 245, axis=2)  # background is white
    assert 0.1 < drawn.mean() < 0.9
    # The house's materials show: the roof's green and the walls' red-brown are both there.
    colours = {tuple(c // 32) for c in image[drawn].reshape(-1, 3)}
    assert len(colours) >= 6
    rows, cols = np.nonzero(drawn)
    # Framed: the house is roughly centred.
    assert abs(cols.mean() - 160) < 60 and abs(rows.mean() - 120) < 50
