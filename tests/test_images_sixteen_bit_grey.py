"""16-bit grey files that Pillow opens in another mode are read as grey (review D): a 16-bit grey
PNG with alpha, which Pillow opens as 8-bit RGBA, was coded as colour (a tint in the decoded
image, a '16-bit colour' and an 'RGBA alpha' warning, original mode RGBA); it is read as LA and
decodes as L. A PGM of maxval over 255, which Pillow opens as 32-bit I, was warned of as
'32-bit integer samples ... clipped'; it is read as I;16. A PPM of maxval over 255, which Pillow
reads as 8-bit RGB, got no precision warning; it gets the 16-bit colour one."""

from __future__ import annotations

import struct
import warnings
import zlib

import numpy as np
from PIL import Image

from taco.images import ImageConversionWarning, decoded_mode, load_image, to_rgb


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(samples: np.ndarray, colour_type: int) -> bytes:
    """A 16-bit PNG of big-endian ``samples`` (H, W, channels), Pillow cannot write this one."""
    h, w = samples.shape[:2]
    raw = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in samples)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, colour_type, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b""))


def _read(name: str, data: bytes) -> tuple[Image.Image, Image.Image, str, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = load_image(name, data=data)
        rgb, mode = to_rgb(image, name)
    said = [str(w.message) for w in caught if issubclass(w.category, ImageConversionWarning)]
    return image, rgb, mode, said


def test_a_16_bit_grey_png_with_alpha_is_read_as_grey():
    grey = np.array([[0, 257 * 40, 257 * 200], [65535, 1000, 30000]])
    alpha = np.full(grey.shape, 30000)
    image, rgb, mode, said = _read("la16.png", _png(np.dstack([grey, alpha]), 4))
    assert image.mode == mode == "LA"
    assert decoded_mode(mode) == "L"
    assert np.array_equal(np.asarray(image.getchannel("L")), grey >> 8)
    pixels = np.asarray(rgb)
    assert np.array_equal(pixels[..., 0], pixels[..., 2])  # grey, no tint
    assert said == ["la16.png: its 16-bit grey samples are read with 8-bit precision (Pillow reads "
                    "16-bit grey with alpha as 8-bit); it decodes as 8-bit grey (L)",
                    "la16.png: the alpha channel of this LA image is dropped (TACO codes RGB only)"]


def test_an_opaque_16_bit_grey_png_with_alpha_warns_of_its_precision_only():
    grey = np.arange(6).reshape(2, 3) * 10000
    _, _, mode, said = _read("la16.png", _png(np.dstack([grey, np.full(grey.shape, 65535)]), 4))
    assert mode == "LA"
    assert said == ["la16.png: its 16-bit grey samples are read with 8-bit precision (Pillow reads "
                    "16-bit grey with alpha as 8-bit); it decodes as 8-bit grey (L)"]


def test_a_16_bit_rgba_png_is_still_colour():
    rgba = np.dstack([np.full((2, 3), v) for v in (65535, 0, 1000, 30000)])
    image, _, mode, said = _read("rgba16.png", _png(rgba, 6))
    assert image.mode == mode == "RGBA"
    assert said[0].startswith("rgba16.png: its 16-bit colour samples are read with 8-bit precision")


def _netpbm(magic: bytes, samples: np.ndarray, maxval: int) -> bytes:
    h, w = samples.shape[:2]
    return b"%s\n%d %d\n%d\n" % (magic, w, h, maxval) + samples.astype(">u2").tobytes()


def test_a_16_bit_pgm_is_read_as_16_bit_grey():
    grey = np.array([[0, 257, 65535], [12345, 40000, 2]])
    image, rgb, mode, said = _read("g.pgm", _netpbm(b"P5", grey, 65535))
    assert image.mode == mode == "I;16"
    assert np.array_equal(np.asarray(image), grey)
    assert decoded_mode(mode) == "I;16"
    assert said == ["g.pgm: 16-bit grey samples are coded with 8-bit precision (decoded as 16-bit grey, "
                    "8 significant bits)"]


def test_a_12_bit_pgm_is_read_as_16_bit_grey():
    _, _, mode, said = _read("g.pgm", _netpbm(b"P5", np.array([[0, 4095, 2000]]), 4095))
    assert mode == "I;16"
    assert said[0].startswith("g.pgm: 16-bit grey samples")


def test_a_16_bit_ppm_warns_of_its_precision():
    rgb16 = np.dstack([np.full((2, 3), v) for v in (65535, 0, 1000)])
    for maxval in (65535, 4095):
        image, _, mode, said = _read("c.ppm", _netpbm(b"P6", np.minimum(rgb16, maxval), maxval))
        assert image.mode == mode == "RGB"
        assert said == ["c.ppm: its 16-bit colour samples are read with 8-bit precision (Pillow reads "
                        "16-bit RGB as 8-bit); it decodes as 8-bit RGB"]


def test_an_8_bit_ppm_and_pgm_say_nothing():
    for magic, shape in ((b"P6", (2, 3, 3)), (b"P5", (2, 3))):
        data = b"%s\n3 2\n255\n" % magic + np.full(shape, 7, np.uint8).tobytes()
        image, _, mode, said = _read("x.pnm", data)
        assert mode == ("RGB" if magic == b"P6" else "L")
        assert said == []
