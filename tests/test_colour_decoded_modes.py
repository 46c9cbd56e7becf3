"""decoded_mode for every mode a .taco header can record, and restore_mode making it: grey
ones (alpha dropped, premultiplied ``La`` too), bilevel and float ones decode to ``L``, 16- and
32-bit integer ones to ``I;16``, every other to ``RGB``. Review A: a mutant that sent ``La`` to
RGB passed, as no test named ``La``."""

from __future__ import annotations

import pytest
from PIL import Image

from taco.bitstream.container import MODES
from taco.colour import decoded_mode, restore_mode, to_rgb

DECODED = {
    "L": "L", "LA": "L", "La": "L", "1": "L", "F": "L",
    "I;16": "I;16", "I;16B": "I;16", "I;16L": "I;16", "I;16N": "I;16", "I": "I;16",
    "RGB": "RGB", "RGBA": "RGB", "RGBa": "RGB", "RGBX": "RGB", "P": "RGB", "PA": "RGB",
    "CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB", "HSV": "RGB",
}


def test_the_table_covers_every_recorded_mode():
    assert set(DECODED) == set(MODES)


@pytest.mark.parametrize("mode", MODES)
def test_decoded_mode(mode):
    assert decoded_mode(mode) == DECODED[mode]
    assert restore_mode(Image.new("RGB", (4, 2), (90, 120, 200)), mode).mode == DECODED[mode]


def test_a_premultiplied_grey_image_decodes_to_grey():
    image = Image.new("LA", (8, 8), (100, 255)).convert("La")
    rgb, mode = to_rgb(image)
    assert mode == "La"
    restored = restore_mode(rgb, mode)
    assert restored.mode == "L"
    assert restored.getpixel((3, 3)) == 100
