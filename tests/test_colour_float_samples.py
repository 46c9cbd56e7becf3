"""Float (mode F) images: read as 0..255, as Pillow reads them, with a warning that says plainly
when every finite sample lies within 0..1 (a 0..1 float TIFF decodes near black) and counts NaN
and infinite samples (coded as 0, or 255 for +inf) instead of turning them into pixels silently."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from taco.colour import ImageConversionWarning, to_rgb
from taco.images import load_image

_UNIT = "float samples all lie within 0..1 but are read as 0..255"


def _warned(image: Image.Image, source: str | None = None) -> tuple[str, list[int]]:
    """to_rgb's one warning line and the coded grey values of the first row."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rgb, mode = to_rgb(image, source)
    assert mode == "F"
    assert [issubclass(w.category, ImageConversionWarning) for w in caught] == [True]
    text = str(caught[0].message)
    assert "\n" not in text
    return text, np.asarray(rgb)[0, :, 0].tolist()


def test_a_0_to_1_float_tiff_is_said_to_decode_near_black(tmp_path: Path) -> None:
    path = tmp_path / "unit.tif"
    Image.fromarray(np.linspace(0, 1, 600, dtype=np.float32).reshape(20, 30), "F").save(path)
    text, row = _warned(load_image(path), "unit.tif")
    assert text.startswith(f"unit.tif: {_UNIT}")
    assert "decodes near black (scale them to 0..255 first)" in text
    assert "NaN" not in text and max(row) <= 1  # not rescaled: the file convention is 0..255


@pytest.mark.parametrize("values", [[0.0, 0.5, 2.0], [-0.5, 0.5, 1.0], [0.0, 0.0, 0.0], [0.0, 128.0, 255.0]])
def test_other_ranges_get_the_clamping_warning(values: list[float]) -> None:
    text, _ = _warned(Image.fromarray(np.array([values], dtype=np.float32), "F"))
    assert text.startswith("float samples are clamped to 0..255") and "0..1" not in text


def test_nan_and_infinite_samples_are_counted() -> None:
    values = [np.nan, 0.25, np.inf, -np.inf, np.nan, 1.0]
    text, row = _warned(Image.fromarray(np.array([values], dtype=np.float32), "F"))
    assert text.startswith(_UNIT)  # the finite samples all lie within 0..1
    assert text.endswith("; NaN and infinite samples are coded as 0 or 255: 2 NaN (0), 1 -inf (0), 1 +inf (255)")
    assert row == [0, 0, 255, 0, 0, 1]

    big = np.full((1, 4), 100.0, dtype=np.float32)
    big[0, 1] = np.inf
    text, row = _warned(Image.fromarray(big, "F"), "x.tif")
    assert re.fullmatch(r"x\.tif: float samples are clamped to 0\.\.255 .*: 1 \+inf \(255\)", text)
    assert row == [100, 255, 100, 100]
