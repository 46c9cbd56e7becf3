"""A transparent colour (a PNG's tRNS colour key) of an RGB or grey image is dropped with the
warning "its transparent colour (tRNS) is dropped" where some pixel has it (review D: it was
dropped silently, though palette images' transparency was said; Review CL #6: it was said as
"the alpha channel of this RGB image", which it has none of), and with nothing said where none
has it. The key of a 2-, 4- or 16-bit file is compared in the decoded pixels' scale."""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from taco.images import ColourProfileConvertedWarning, ImageConversionWarning, load_image, to_rgb
from taco.samples import SAMPLES_DIR as SAMPLES


def _said(image: Image.Image, name: str = "x.png") -> tuple[Image.Image, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rgb, _ = to_rgb(image, name)
    return rgb, [str(w.message) for w in caught if issubclass(w.category, ImageConversionWarning)]


def _saved(pixels: np.ndarray, key: object) -> Image.Image:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG", transparency=key)
    return load_image("x.png", data=out.getvalue())


RGB = np.array([[[0, 255, 0], [10, 20, 30]], [[1, 2, 3], [4, 5, 6]]], np.uint8)


@pytest.mark.parametrize(("pixels", "key", "mode"), [
    (RGB, (0, 255, 0), "RGB"),
    (np.array([[0, 9], [200, 255]], np.uint8), 200, "L"),
])
def test_a_used_transparent_colour_is_said(pixels, key, mode):
    image = _saved(pixels, key)
    assert image.info["transparency"] == key
    rgb, said = _said(image)
    assert said == ["x.png: its transparent colour (tRNS) is dropped (TACO codes RGB only)"]
    assert "transparency" not in rgb.info
    assert _said(rgb)[1] == []  # converting it again says nothing more


def test_an_rgb_png_saved_with_a_transparent_colour_says_no_alpha_channel(tmp_path):
    path = tmp_path / "k.png"
    Image.new("RGB", (2, 2), (1, 2, 3)).save(path, transparency=(1, 2, 3))
    _, said = _said(load_image(path), "k.png")
    assert said == ["k.png: its transparent colour (tRNS) is dropped (TACO codes RGB only)"]


@pytest.mark.parametrize(("pixels", "key"), [(RGB, (0, 255, 1)), (np.array([[0, 9]], np.uint8), 8)])
def test_an_unused_transparent_colour_is_dropped_unsaid(pixels, key):
    rgb, said = _said(_saved(pixels, key))
    assert said == []
    assert "transparency" not in rgb.info


def test_a_16_bit_grey_image_with_a_transparent_colour_says_both():
    image = Image.fromarray(np.array([[1000, 2000]], np.uint16))
    image.info["transparency"] = 2000
    _, said = _said(image)
    assert said == ["x.png: 16-bit grey samples are coded with 8-bit precision (decoded as 16-bit grey, 8 "
                    "significant bits); its transparent colour (tRNS) is dropped (TACO codes RGB only)"]


@pytest.mark.parametrize(("key", "used"), [((0, 255, 0), True), ((0, 255, 1), False)])
def test_a_profile_conversion_says_whether_the_transparent_colour_is_dropped(key, used):
    image = Image.fromarray(RGB)
    image.info.update(transparency=key, icc_profile=Image.open(SAMPLES / "skimage-rocket.png").info["icc_profile"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rgb, _ = to_rgb(image)
    said = [w.message for w in caught if isinstance(w.message, ColourProfileConvertedWarning)]
    assert len(said) == 1 and said[0].profile == "Adobe RGB (1998)"
    assert said[0].alpha_dropped is used
    assert "transparency" not in rgb.info


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(raw_rows: bytes, w: int, h: int, depth: int, colour_type: int, key: bytes) -> bytes:
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour_type, 0, 0, 0))
            + _chunk(b"tRNS", key) + _chunk(b"IDAT", zlib.compress(raw_rows)) + _chunk(b"IEND", b""))


@pytest.mark.parametrize(("row", "depth", "key", "used"), [
    (b"\x1b", 2, 1, True),  # 2-bit 0,1,2,3: read as 0,85,170,255; the key 1 is 85
    (b"\x00", 2, 1, False),
    (b"\x01\x23", 4, 2, True),  # 4-bit 0,1,2,3: read as 0,17,34,51
    (b"\x01\x13", 4, 2, False),
])
def test_a_low_bit_grey_key_is_compared_in_the_pixels_scale(row, depth, key, used):
    image = load_image("g.png", data=_png(b"\x00" + row, 4, 1, depth, 0, struct.pack(">H", key)))
    _, said = _said(image, "g.png")
    assert said == (["g.png: its transparent colour (tRNS) is dropped (TACO codes RGB only)"] if used else [])


@pytest.mark.parametrize(("key", "used"), [((0x1234, 0x5678, 0x9ABC), True), ((0x1234, 0x5678, 0x9BBC), False)])
def test_a_16_bit_colour_key_is_compared_in_the_pixels_scale(key, used):
    row = np.array([[0x1234, 0x5678, 0x9ABC], [1, 2, 3]], ">u2").tobytes()
    image = load_image("c.png", data=_png(b"\x00" + row, 2, 1, 16, 2, struct.pack(">HHH", *key)))
    _, said = _said(image, "c.png")
    assert said[0].startswith("c.png: its 16-bit colour samples")
    assert said[1:] == (["c.png: its transparent colour (tRNS) is dropped (TACO codes RGB only)"]
                        if used else [])


def test_a_palette_image_says_which_transparency_is_dropped():
    import warnings

    from PIL import Image

    from taco.images import to_rgb

    said = {}
    p = Image.new("P", (4, 4), 0)
    p.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    p.info["transparency"] = 0  # index 0, which every pixel has
    pa = Image.new("PA", (4, 4), (0, 0))
    for mode, image in (("P", p), ("PA", pa)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            to_rgb(image, f"x-{mode}.png")
        said[mode] = " ".join(str(w.message) for w in caught)
    assert "its palette's transparency is dropped" in said["P"], said
    assert "the alpha channel of this palette image is dropped" in said["PA"], said
