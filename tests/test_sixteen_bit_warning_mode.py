"""The warning for a 16-bit image names the mode it decodes as: every 16-bit mode (I;16, I;16L,
I;16B, I;16N) decodes as I;16 (taco.images.restore_mode), where the warning said 'decoded back
to I;16B' for a big-endian image."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

from taco.images import ImageConversionWarning, restore_mode, to_rgb


@pytest.mark.parametrize("mode", ["I;16", "I;16L", "I;16B"])
def test_the_warning_names_the_mode_the_image_decodes_as(mode):
    image = Image.frombytes(mode, (4, 4), np.arange(32, dtype=np.uint8).tobytes())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        to_rgb(image)
    said = [str(w.message) for w in caught if issubclass(w.category, ImageConversionWarning)]
    assert len(said) == 1
    assert said == ["16-bit grey samples are coded with 8-bit precision (decoded as 16-bit grey, 8 "
                    "significant bits)"]
    assert restore_mode(Image.new("RGB", (4, 4)), mode).mode == "I;16"
