"""taco.colour.to_rgb: nclx primaries close to sRGB's but not equal (SMPTE 170M) are converted, an
unspecified nclx transfer is read as sRGB's, and a bilevel image's transparent colour is said to be
dropped."""

from __future__ import annotations

import warnings

from PIL import Image

from taco.colour import to_rgb


def _nclx(code: int, transfer: int, red, green, blue) -> dict:
    return {"color_primaries": code, "transfer_characteristics": transfer,
            "color_primary_red_x": red[0], "color_primary_red_y": red[1],
            "color_primary_green_x": green[0], "color_primary_green_y": green[1],
            "color_primary_blue_x": blue[0], "color_primary_blue_y": blue[1],
            "color_primary_white_x": 0.3127, "color_primary_white_y": 0.329}


def _to_rgb(im: Image.Image, name: str) -> tuple[tuple[int, ...], list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rgb, _ = to_rgb(im, name)
    return rgb.getpixel((0, 0)), [str(w.message) for w in caught]


def _near(pixel, expected, tol=2) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(pixel, expected, strict=True))


def test_smpte_170m_primaries_are_not_taken_for_srgb():
    """SMPTE 170M primaries (nclx 6) differ from sRGB's by ~0.01-0.02: converted, with a
    warning, not coded as they are."""
    im = Image.new("RGB", (4, 4), (40, 200, 40))
    im.info["nclx_profile"] = _nclx(6, 13, (0.63, 0.34), (0.31, 0.595), (0.155, 0.07))
    pixel, said = _to_rgb(im, "smpte.heic")
    assert _near(pixel, (63, 197, 37))
    assert len(said) == 1 and "converted from its nclx primaries 6" in said[0]


def test_an_unspecified_nclx_transfer_is_read_as_srgb():
    """Transfer 2 (unspecified) is sRGB's: a Display P3 photo so tagged is converted."""
    im = Image.new("RGB", (4, 4), (200, 40, 40))
    im.info["nclx_profile"] = _nclx(12, 2, (0.68, 0.32), (0.265, 0.69), (0.15, 0.06))
    pixel, said = _to_rgb(im, "p3.heic")
    assert _near(pixel, (218, 0, 26))
    assert len(said) == 1 and "converted from its Display P3 primaries to sRGB" in said[0]


def test_a_bilevel_image_with_a_transparent_colour_warns_it_is_dropped():
    """Mode "1" with a tRNS key is said, like the other keyed modes."""
    im = Image.new("1", (8, 8), 1)
    im.putpixel((0, 0), 0)
    im.info["transparency"] = 0
    _, said = _to_rgb(im, "bilevel.png")
    assert any("bilevel.png" in s and "dropped" in s for s in said)
