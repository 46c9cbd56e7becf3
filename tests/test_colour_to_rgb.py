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


def test_png_gammas_at_the_ends_of_the_srgb_like_range_stay_silent():
    """A PNG gamma whose exponent is 2.0 or 2.4 exactly (gAMA 50000, 41667) is read as sRGB's,
    as viewers read it: no conversion, no warning; one just outside is converted."""
    for gamma in (0.5, 1 / 2.4):
        im = Image.new("RGB", (4, 4), (100, 150, 200))
        im.info["gamma"] = gamma
        pixel, said = _to_rgb(im, "edge.png")
        assert (pixel, said) == ((100, 150, 200), []), gamma
    im = Image.new("RGB", (4, 4), (100, 150, 200))
    im.info["gamma"] = 0.51
    pixel, said = _to_rgb(im, "outside.png")
    assert len(said) == 1 and "PNG gamma 1.96" in said[0] and pixel != (100, 150, 200)


def _camera_photo(tmp_path, colour_space: int, index: str) -> Image.Image:
    """An RGB JPEG whose EXIF gives ColorSpace ``colour_space`` and interoperability index ``index``."""
    exif = Image.Exif()
    exif[0x010F] = "Camera"
    camera = exif.get_ifd(0x8769)
    camera[0xA001], camera[0xA005] = colour_space, {0x0001: index}
    path = tmp_path / f"{colour_space}-{index}.jpg"
    Image.new("RGB", (8, 8), (40, 200, 40)).save(path, exif=exif, quality=100)
    image = Image.open(path)
    image.load()
    return image


def test_an_exif_adobe_rgb_mark_needs_both_colour_space_uncalibrated_and_index_r03(tmp_path):
    """Only ColorSpace uncalibrated (0xFFFF) with the interoperability index R03 marks Adobe RGB:
    ColorSpace sRGB (1) or another value (2) with R03, or uncalibrated with R98, is read as sRGB,
    silently."""
    for colour_space, index in ((1, "R03"), (2, "R03"), (0xFFFF, "R98")):
        pixel, said = _to_rgb(_camera_photo(tmp_path, colour_space, index), "photo.jpg")
        assert said == [], (colour_space, index)
        assert _near(pixel, (40, 200, 40), tol=3)
    pixel, said = _to_rgb(_camera_photo(tmp_path, 0xFFFF, "R03"), "photo.jpg")
    assert len(said) == 1 and "its EXIF marks it Adobe RGB" in said[0]


def test_an_exif_adobe_rgb_mark_converts_an_image_with_alpha_too(tmp_path):
    photo = _camera_photo(tmp_path, 0xFFFF, "R03")
    with_alpha = photo.convert("RGBA")
    with_alpha.info = dict(photo.info)
    pixel, said = _to_rgb(with_alpha, "photo.png")
    assert len(said) == 1 and "its EXIF marks it Adobe RGB" in said[0]
    assert not _near(pixel, (40, 200, 40), tol=3)


def test_an_icc_profile_wins_over_a_png_gamma():
    """An image with an sRGB ICC profile and a gAMA of 1.0 is sRGB, as viewers read it: the
    profile, not the gamma, says its colours (nothing converted, nothing said)."""
    from PIL import ImageCms

    im = Image.new("RGB", (4, 4), (100, 150, 200))
    im.info["icc_profile"] = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    im.info["gamma"] = 1.0
    pixel, said = _to_rgb(im, "tagged.png")
    assert (pixel, said) == ((100, 150, 200), [])
