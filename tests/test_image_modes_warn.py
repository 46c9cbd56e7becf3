"""The YCbCr, HSV and LAB colour spaces: converted to RGB correctly, and said so.

The header records the source mode, and such an image decodes as RGB: like a palette or CMYK,
the conversion is one ImageConversionWarning line (it was silent). The conversions are checked
against the formulas: JPEG's full-range BT.601 for YCbCr, ``colorsys`` for HSV, and CIELAB (D50
white, Bradford-adapted to sRGB's D65) for LAB, where Pillow's own ``convert("RGB")`` goes
through LittleCMS's precalculated table and is off by up to 16 levels near the gamut's edge."""

from __future__ import annotations

import colorsys
import re
import warnings

import numpy as np
import pytest
from PIL import Image

import taco
from taco.images import ImageConversionWarning, load_image, to_rgb

_D50 = np.array([0.9642, 1.0, 0.8249])
_D65 = np.array([0.95047, 1.0, 1.08883])
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
_XYZ_TO_SRGB = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415],
                         [0.0557, -0.2040, 1.0570]])


def _lab_to_srgb(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bytes of a Pillow LAB image (H, W, 3) -> 8-bit sRGB by the CIE formulas, and where
    the colour is inside sRGB's gamut (H, W)."""
    v = raw.astype(np.float64)
    lum = v[..., 0] / 255.0 * 100.0
    a, b = raw[..., 1].view(np.int8).astype(np.float64), raw[..., 2].view(np.int8).astype(np.float64)
    fy = (lum + 16.0) / 116.0
    f = np.stack([fy + a / 500.0, fy, fy - b / 200.0], axis=-1)
    xyz = np.where(f > 6 / 29, f**3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * _D50
    adapt = np.linalg.inv(_BRADFORD) @ np.diag((_BRADFORD @ _D65) / (_BRADFORD @ _D50)) @ _BRADFORD
    linear = xyz @ (_XYZ_TO_SRGB @ adapt).T
    inside = np.all((linear >= 0.0) & (linear <= 1.0), axis=-1)
    linear = np.clip(linear, 0.0, 1.0)
    encoded = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.rint(encoded * 255.0).astype(np.int64), inside


def _converted(image: Image.Image, source: str | None = None) -> tuple[np.ndarray, str]:
    """to_rgb(image) as an int array, with its one warning's text (it must give exactly one)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rgb, mode = to_rgb(image, source)
    assert mode == image.mode and rgb.mode == "RGB"
    assert [type(w.message) for w in caught] == [ImageConversionWarning], [str(w.message) for w in caught]
    return np.asarray(rgb).astype(np.int64), str(caught[0].message)


def _random_bytes(mode: str, seed: int = 0) -> tuple[Image.Image, np.ndarray]:
    raw = np.random.default_rng(seed).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    return Image.frombytes(mode, (64, 48), raw.tobytes()), raw


@pytest.mark.parametrize(("mode", "space"), [("YCbCr", "YCbCr is converted to RGB"),
                                             ("HSV", "HSV is converted to RGB"),
                                             ("LAB", "LAB is converted to sRGB")])
def test_each_colour_space_warns_once_as_cmyk_does(mode, space):
    _, text = _converted(_random_bytes(mode)[0], "photo.tif")
    assert text.startswith(f"photo.tif: {space}") and text.endswith("; it decodes as RGB")
    assert "\n" not in text
    _, cmyk = _converted(Image.new("CMYK", (2, 2)))
    assert re.search(r"^CMYK is converted to RGB .*; it decodes as RGB$", cmyk)  # the same family


def test_ycbcr_is_jpegs_full_range_bt601():
    image, raw = _random_bytes("YCbCr")
    rgb, _ = _converted(image)
    y, cb, cr = (raw[..., i].astype(np.float64) for i in range(3))
    expected = np.stack([y + 1.402 * (cr - 128), y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128),
                         y + 1.772 * (cb - 128)], axis=-1)
    assert np.abs(rgb - np.clip(np.rint(expected), 0, 255)).max() <= 1


def test_hsv_is_colorsys():
    image, raw = _random_bytes("HSV")
    rgb, _ = _converted(image)
    expected = np.array([[colorsys.hsv_to_rgb(*(p / 255.0)) for p in row] for row in raw.astype(np.float64)])
    assert np.array_equal(rgb, np.rint(expected * 255.0).astype(np.int64))


def test_lab_is_converted_colorimetrically_not_reinterpreted():
    image, raw = _random_bytes("LAB")
    rgb, _ = _converted(image)
    expected, inside = _lab_to_srgb(raw)
    assert inside.sum() > 100  # enough in-gamut colours to mean something
    assert np.abs(rgb - expected)[inside].max() <= 1
    assert np.abs(rgb - expected).max() <= 2  # out of gamut: clipped alike
    assert not np.array_equal(rgb, raw.astype(np.int64))  # the channels are not taken as R, G, B
    neutral = Image.frombytes("LAB", (1, 1), bytes([128, 0, 0]))  # L 50, a = b = 0: a grey
    grey, _ = _converted(neutral)
    assert grey[0, 0].tolist() == [119, 119, 119]


def test_a_lab_tiff_decodes_to_the_photo_it_was_made_from(tmp_path):
    """A photo saved as a CIELAB TIFF (photometric 8) decodes as the formulas say its bytes
    mean, which is the photo to within the 8-bit LAB steps (and the error of Pillow's own
    RGB -> LAB table, that wrote the file)."""
    photo = _photo()
    photo.convert("LAB").save(tmp_path / "lab.tif")
    image = load_image(tmp_path / "lab.tif")
    assert image.mode == "LAB"
    rgb, text = _converted(image, "lab.tif")
    assert text.startswith("lab.tif: LAB is converted to sRGB")
    assert np.abs(rgb - _lab_to_srgb(np.asarray(image))[0]).max() <= 1
    error = np.abs(rgb - np.asarray(photo).astype(np.int64))
    assert error.mean() < 1.0, error.mean()


def _photo() -> Image.Image:
    """A smooth, colourful 64x48 RGB image (gradients in every channel)."""
    y, x = np.mgrid[0:48, 0:64]
    arr = np.stack([x * 4, y * 5, 255 - (x + y) * 2], axis=-1)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


@pytest.mark.parametrize("mode", ["YCbCr", "HSV", "LAB"])
def test_compress_warns_records_the_mode_and_decodes_rgb(mode):
    model = taco.create_model("elic-tiny", seed=0)
    with pytest.warns(ImageConversionWarning, match=f"^{mode} is converted to"):
        data = taco.compress(_photo().convert(mode), None, model)
    assert taco.info(data).header.mode == mode
    assert taco.decompress(data, model).mode == "RGB"
