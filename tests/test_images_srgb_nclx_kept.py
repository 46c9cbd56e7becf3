"""An RGB HEIC/AVIF photo whose nclx_profile is sRGB (BT.709 primaries, sRGB transfer) needs no
conversion and gets no warning: to_rgb returns the caller's image itself, not a full copy (a
copy costs about 35 ms and 36 MB for a 12 MP photo, for every image read)."""

from __future__ import annotations

import warnings

import numpy as np
from PIL import Image

from taco.images import to_rgb

#: sRGB / BT.709 primaries, D65 white.
SRGB = ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06), (0.3127, 0.3290))


def _srgb_nclx(transfer: int) -> dict:
    out = {"color_primaries": 1, "transfer_characteristics": transfer,
           "matrix_coefficients": 6, "full_range_flag": 1}
    for name, (x, y) in zip(("red", "green", "blue", "white"), SRGB, strict=True):
        out[f"color_primary_{name}_x"] = float(np.float32(x))  # float32, as pillow-heif reports them
        out[f"color_primary_{name}_y"] = float(np.float32(y))
    return out


def test_srgb_nclx_image_is_returned_itself() -> None:
    img = Image.fromarray(np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3))
    img.info["nclx_profile"] = _srgb_nclx(13)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rgb, mode = to_rgb(img)
    assert rgb is img and mode == "RGB"


def test_hdr_srgb_primaries_nclx_is_said_and_dropped() -> None:
    img = Image.fromarray(np.zeros((2, 2, 3), dtype=np.uint8))
    img.info["nclx_profile"] = _srgb_nclx(16)  # PQ: warned about, so not carried on
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rgb, _ = to_rgb(img)
    assert len(caught) == 1 and "not tone-mapped" in str(caught[0].message)
    assert rgb is not img and "nclx_profile" not in rgb.info and "nclx_profile" in img.info
