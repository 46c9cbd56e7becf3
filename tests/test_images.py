"""taco.images: loading errors, mode conversion to RGB and back, tensor round trips."""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from taco.errors import TacoValueError
from taco.images import (
    NORMALISED_RANGE,
    ImageConversionWarning,
    ImageReadError,
    decoded_mode,
    image_to_tensor,
    load_image,
    pil_image_argument,
    pixel_scale_hint,
    restore_mode,
    tensor_to_image,
    to_rgb,
)
from taco.samples import SAMPLES_DIR as SAMPLES


def _gradient(w: int = 32, h: int = 24) -> Image.Image:
    x = np.arange(w * h * 3, dtype=np.uint32).reshape(h, w, 3) % 256
    return Image.fromarray(x.astype(np.uint8))


# ------------------------------------------------------------------------------ load_image


def test_load_png_roundtrip(tmp_path: Path) -> None:
    src = _gradient()
    path = tmp_path / "ok.png"
    src.save(path)
    img = load_image(path)
    assert img.mode == "RGB" and img.size == (32, 24)
    assert np.array_equal(np.asarray(img), np.asarray(src))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="nope.png.*not found") as info:
        load_image(tmp_path / "nope.png")
    assert info.value.path.name == "nope.png"
    assert isinstance(info.value, ValueError)


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageReadError, match=r"empty\.jpg.*empty"):
        load_image(path)


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(ImageReadError, match=r"dir\.png.*directory"):
        load_image(tmp_path / "dir.png")


def test_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("this is not a picture\n" * 10)
    with pytest.raises(ImageReadError, match=r"notes\.png.*not an image"):
        load_image(path)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file(tmp_path: Path, fmt: str) -> None:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)).save(buf, fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageReadError, match=r"cut\..*truncated"):
        load_image(path)


def test_decompression_bomb_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.new("L", (100, 100)).save(path)
    with pytest.raises(ImageReadError, match=r"big\.png.*100x100 image \(10,000 pixels\), over the cap of 9,999"):
        load_image(path, max_pixels=9_999)
    assert load_image(path, max_pixels=10_000).size == (100, 100)
    assert load_image(path, max_pixels=None).size == (100, 100)


def _phone_photo(path: Path, orientation: int) -> np.ndarray:
    """A 6x4 JPEG stored sideways with an EXIF orientation tag, as phones write them."""
    pixels = np.zeros((4, 6, 3), np.uint8)
    pixels[:, :3] = (255, 0, 0)  # left half red (as stored)
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(pixels).save(path, exif=exif, quality=100)
    return pixels


def test_exif_orientation_applied(tmp_path: Path) -> None:
    path = tmp_path / "phone.jpg"
    _phone_photo(path, 6)  # 6: the viewer rotates 90 degrees clockwise
    img = load_image(path)
    assert img.size == (4, 6)  # upright: portrait
    assert img.info["exif_orientation"] == 6
    assert img.getexif().get(0x0112) is None  # not applied twice by a later reader
    top, bottom = img.getpixel((2, 0)), img.getpixel((2, 5))
    assert top[0] > 200 and bottom[0] < 60  # red (stored left) is now at the top
    raw = load_image(path, orient=False)
    assert raw.size == (6, 4) and "exif_orientation" not in raw.info


def test_exif_orientation_1_and_missing_leave_image_alone(tmp_path: Path) -> None:
    path = tmp_path / "upright.jpg"
    _phone_photo(path, 1)
    img = load_image(path)
    assert img.size == (6, 4) and "exif_orientation" not in img.info


def test_animated_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (16, 16), c) for c in [(0, 0, 255), (255, 0, 0)]]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    with pytest.warns(ImageConversionWarning, match="2 frames"):
        img = load_image(path)
    rgb, _ = to_rgb(img)
    assert rgb.getpixel((0, 0)) == (0, 0, 255)
    assert not getattr(img, "is_animated", False)


# ---------------------------------------------------------------------------------- to_rgb


def _no_warning_to_rgb(img: Image.Image) -> tuple[Image.Image, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return to_rgb(img)


def _one_warning_to_rgb(img: Image.Image, match: str) -> tuple[Image.Image, str]:
    """to_rgb that must warn exactly once, in one line, about what it cannot keep."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = to_rgb(img)
    assert [issubclass(w.category, ImageConversionWarning) for w in caught] == [True]
    text = str(caught[0].message)
    assert re.search(match, text) and "\n" not in text
    return out


def test_rgb_unchanged() -> None:
    src = _gradient()
    rgb, mode = _no_warning_to_rgb(src)
    assert mode == "RGB" and np.array_equal(np.asarray(rgb), np.asarray(src))


def test_l_to_rgb() -> None:
    src = Image.fromarray(np.array([[0, 100, 255]], np.uint8))
    rgb, mode = _no_warning_to_rgb(src)
    assert mode == "L" and rgb.mode == "RGB"
    assert np.asarray(rgb)[0].tolist() == [[0, 0, 0], [100, 100, 100], [255, 255, 255]]


@pytest.mark.parametrize(
    ("mode", "value", "expected"),
    [("LA", (70, 0), (70, 70, 70)), ("RGBA", (10, 20, 30, 0), (10, 20, 30))],
)
def test_alpha_dropped_with_warning(mode: str, value: tuple, expected: tuple) -> None:
    src = Image.new(mode, (3, 2), value)
    with pytest.warns(ImageConversionWarning, match=f"alpha.*{mode}"):
        rgb, got_mode = to_rgb(src)
    assert got_mode == mode and rgb.mode == "RGB"
    assert rgb.getpixel((0, 0)) == expected  # colour kept as stored, not composited


def _palette_image() -> Image.Image:
    img = Image.fromarray(np.array([[0, 1, 2]], np.uint8), mode="L").convert("P")
    img.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (253 * 3))
    return img


def test_palette_without_transparency() -> None:
    rgb, mode = _one_warning_to_rgb(_palette_image(), "palette is not kept")
    assert mode == "P"
    assert np.asarray(rgb)[0].tolist() == [[255, 0, 0], [0, 255, 0], [0, 0, 255]]


@pytest.mark.parametrize("transparency", [1, bytes([255, 0, 255])])
def test_palette_with_transparency(transparency: int | bytes) -> None:
    img = _palette_image()
    img.info["transparency"] = transparency
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rgb, mode = to_rgb(img)
    # Exactly our warning: Pillow's "should be converted to RGBA" warning must not leak.
    assert [type(w.message) for w in caught] == [ImageConversionWarning]
    assert mode == "P"
    assert np.asarray(rgb)[0].tolist() == [[255, 0, 0], [0, 255, 0], [0, 0, 255]]


def test_palette_file_with_transparency(tmp_path: Path) -> None:
    img = _palette_image()
    path = tmp_path / "pal.png"
    img.save(path, transparency=0)
    loaded = load_image(path)
    assert loaded.mode == "P" and "transparency" in loaded.info
    with pytest.warns(ImageConversionWarning):
        rgb, _ = to_rgb(loaded)
    assert rgb.getpixel((0, 0)) == (255, 0, 0)


def test_bilevel() -> None:
    src = Image.fromarray(np.array([[False, True]]))
    assert src.mode == "1"
    rgb, mode = _no_warning_to_rgb(src)
    assert mode == "1" and np.asarray(rgb)[0].tolist() == [[0, 0, 0], [255, 255, 255]]
    assert restore_mode(rgb, mode).mode == "L"


def test_cmyk() -> None:
    pixels = [(0, 0, 0, 0), (0, 255, 255, 0), (0, 0, 0, 255), (255, 0, 0, 0)]
    src = Image.new("CMYK", (4, 1))
    src.putdata(pixels)
    rgb, mode = _one_warning_to_rgb(src, "CMYK .*without colour management")
    assert mode == "CMYK"
    assert np.asarray(rgb)[0].tolist() == [[255, 255, 255], [255, 0, 0], [0, 0, 0], [0, 255, 255]]


def test_16_bit_colour_png_is_said_to_be_read_as_8_bit(tmp_path: Path) -> None:
    """Pillow reads a 16-bit RGB PNG as 8-bit RGB without a word: load_image marks it, to_rgb
    warns (an 8-bit one gets no warning)."""
    import struct
    import zlib

    h, w = 4, 5
    arr = (np.arange(h * w * 3).reshape(h, w, 3) * 1000).astype(">u2")
    raw = b"".join(b"\0" + arr[i].tobytes() for i in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path = tmp_path / "rgb16.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    img = load_image(path)
    assert img.mode == "RGB" and img.info["source_bits"] == 16
    rgb, _ = _one_warning_to_rgb(img, "its 16-bit colour samples are read with 8-bit precision")
    assert np.asarray(rgb)[0, 1].tolist() == [int(v) >> 8 for v in arr[0, 1]]  # the high bytes
    Image.fromarray((arr >> 8).astype(np.uint8)).save(tmp_path / "rgb8.png")
    _no_warning_to_rgb(load_image(tmp_path / "rgb8.png"))


@pytest.mark.parametrize("dtype", ["<u2", ">u2"])
def test_16_bit_scaled_not_clipped(dtype: str) -> None:
    src = Image.fromarray(np.array([[0, 257, 32896, 65535]], dtype=dtype))
    assert src.mode == {"<u2": "I;16", ">u2": "I;16B"}[dtype]
    rgb, mode = _one_warning_to_rgb(src, "8-bit precision")
    assert mode == src.mode
    assert np.asarray(rgb)[0, :, 0].tolist() == [0, 1, 128, 255]
    assert np.asarray(rgb)[0, :, 1].tolist() == [0, 1, 128, 255]


def test_16_bit_png_file(tmp_path: Path) -> None:
    path = tmp_path / "deep.png"
    Image.fromarray(np.array([[0, 1000, 65535]], dtype="<u2")).save(path)
    rgb, mode = to_rgb(load_image(path))
    assert mode.startswith("I")
    assert np.asarray(rgb)[0, :, 0].tolist() == [0, 4, 255]  # 1000 / 257 = 3.89 → 4


def test_mode_i_32_bit() -> None:
    src = Image.fromarray(np.array([[-5, 257, 65535, 100_000]], dtype=np.int32))
    assert src.mode == "I"
    rgb, mode = _one_warning_to_rgb(src, "clipped to 0..65535 and coded with 8-bit precision")
    assert mode == "I" and np.asarray(rgb)[0, :, 0].tolist() == [0, 1, 255, 255]


def test_float_clamped() -> None:
    src = Image.fromarray(np.array([[-10.0, 0.4, 127.6, 300.0, np.nan]], dtype=np.float32))
    assert src.mode == "F"
    rgb, mode = _one_warning_to_rgb(src, "float samples are clamped")
    assert mode == "F" and np.asarray(rgb)[0, :, 0].tolist() == [0, 0, 128, 255, 0]


def test_ycbcr_and_hsv() -> None:
    """Converted with a warning, as CMYK is: they decode as RGB (tests/test_image_modes_warn.py
    checks the conversions against their formulas, and LAB's)."""
    ycbcr = Image.new("RGB", (2, 2), (200, 30, 60)).convert("YCbCr")
    rgb, mode = _one_warning_to_rgb(ycbcr, r"^YCbCr is converted to RGB .*; it decodes as RGB$")
    assert mode == "YCbCr"
    assert np.abs(np.asarray(rgb, np.int16) - [200, 30, 60]).max() <= 2

    hsv = Image.new("HSV", (2, 2), (0, 255, 255))  # pure red
    rgb, mode = _one_warning_to_rgb(hsv, r"^HSV is converted to RGB; it decodes as RGB$")
    assert mode == "HSV" and rgb.getpixel((0, 0)) == (255, 0, 0)


# ----------------------------------------------------------------------------- restore_mode


def test_restore_mode() -> None:
    gray = Image.new("RGB", (2, 1), (128, 128, 128))
    assert restore_mode(gray, "L").mode == "L"
    assert restore_mode(gray, "LA").mode == "L"
    assert restore_mode(gray, "RGBA").mode == "RGB"
    assert restore_mode(gray, "P").mode == "RGB"
    assert restore_mode(gray, "CMYK").mode == "RGB"
    assert restore_mode(gray, "RGB") is gray

    wide = restore_mode(Image.new("RGB", (2, 1), (255, 255, 255)), "I;16B")
    assert wide.mode == "I;16" and np.asarray(wide).tolist() == [[65535, 65535]]
    as_i = restore_mode(gray, "I")  # clipped to 16 bits on encode: I;16, which PNG holds
    assert as_i.mode == "I;16" and np.asarray(as_i).tolist() == [[128 * 257, 128 * 257]]
    as_f = restore_mode(gray, "F")  # coded as 0..255 integers: L
    assert as_f.mode == "L" and as_f.getpixel((0, 0)) == 128
    for mode in ("1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "CMYK", "YCbCr", "I;16", "I;16B", "I", "F"):
        assert restore_mode(gray, mode).mode == decoded_mode(mode), mode


def test_16_bit_round_trip_within_one_step() -> None:
    values = np.array([[0, 300, 1000, 40000, 65535]], dtype="<u2")
    rgb, mode = to_rgb(Image.fromarray(values))
    back = np.asarray(restore_mode(rgb, mode)).astype(np.int64)
    assert np.abs(back - values).max() <= 128  # half an 8-bit step (257 / 2)


# ------------------------------------------------------------------------- tensor conversion


def test_tensor_round_trip() -> None:
    src = _gradient(17, 9)
    t = image_to_tensor(src)
    assert t.shape == (1, 3, 9, 17) and t.dtype == torch.float32
    assert 0.0 <= t.min().item() and t.max().item() <= 1.0
    assert np.array_equal(np.asarray(tensor_to_image(t)), np.asarray(src))
    assert np.array_equal(np.asarray(tensor_to_image(t[0])), np.asarray(src))


def test_image_to_tensor_converts_mode() -> None:
    t = image_to_tensor(Image.new("L", (2, 2), 255))
    assert t.shape == (1, 3, 2, 2) and torch.all(t == 1.0)


def test_tensor_to_image_rounds_and_clamps() -> None:
    t = torch.tensor([-0.5, 0.4 / 255, 1.6 / 255, 2.0, float("nan")]).view(1, 1, 1, 5)
    img = tensor_to_image(t.expand(1, 3, 1, 5))
    assert np.asarray(img)[0, :, 0].tolist() == [0, 0, 2, 255, 0]


@pytest.mark.parametrize(("low", "high", "hint"), [
    (0, 255, "divide 0-255 values by 255"),
    (-20, 270, "divide 0-255 values by 255"),  # resampled 0-255 pixels overshoot
    (0, 65535, "divide 0-65535 (16-bit) values by 65535"),
    (-0.99, 0.99, "map [-1, 1] values with (x + 1) / 2"),
    (-1.2, 0.3, "map [-1, 1] values with (x + 1) / 2"),
    (-2.1, 2.6, "undo the mean/std normalisation"),
    (-0.2, 2.6, "divide 0-255 values by 255, or undo the mean/std normalisation"),  # either
    (-128, 127, "rescale them to [0, 1] first"),
    (0, 1e6, "rescale them to [0, 1] first"),
    (-5, 5, "rescale them to [0, 1] first"),
])
def test_pixel_scale_hint_follows_the_range(low: float, high: float, hint: str) -> None:
    """[-1, 1] and ImageNet-normalised pixels were told to divide by 255 (by the codec), which
    puts them in range as a flat grey image: the hint is the one the range suggests."""
    assert pixel_scale_hint(low, high).startswith(hint)
    lo, hi = NORMALISED_RANGE
    assert round(lo, 2) == -2.12 and round(hi, 2) == 2.64


def test_tensor_to_image_bad_shapes() -> None:
    """Bad shapes are TacoValueErrors (they were builtin ValueErrors, which ``except TacoError``
    missed); a channels-last image is told to permute."""
    with pytest.raises(TacoValueError, match="batch of one"):
        tensor_to_image(torch.zeros(2, 3, 4, 4))
    with pytest.raises(TacoValueError, match=r"^expected \(1, 3, H, W\) or \(3, H, W\), got shape \(1, 4, 4\)$"):
        tensor_to_image(torch.zeros(1, 4, 4))
    with pytest.raises(TacoValueError, match=r"got shape \(8, 8, 3\): channels last\? pass t.permute\(2, 0, 1\)$"):
        tensor_to_image(torch.rand(8, 8, 3))
    with pytest.raises(TypeError, match="^tensor_to_image takes a torch tensor .*, not ndarray$"):
        tensor_to_image(np.zeros((3, 4, 4)))  # type: ignore[arg-type]


def test_image_to_tensor_says_what_it_takes() -> None:
    """A numpy array was an AttributeError ('numpy.ndarray' object has no attribute 'mode')."""
    with pytest.raises(TypeError, match=r"^image_to_tensor takes a PIL image, not ndarray \(for an "
                                        r"\(H, W, 3\) uint8 array, pass Image.fromarray\(a\)\)$"):
        image_to_tensor(np.zeros((4, 4, 3), np.uint8))  # type: ignore[arg-type]
    for path in ("photo.png", Path("photo.png")):
        with pytest.raises(TypeError, match=r"not \w+ \(for a file, pass taco.images.load_image\(path\)\)$"):
            image_to_tensor(path)  # type: ignore[arg-type]


def test_pil_image_argument_names_its_taker_and_how_to_make_one() -> None:
    """The one check image_to_tensor and taco.evaluation.classic.code_at_bpp make of their image."""
    img = Image.new("RGB", (2, 2))
    assert pil_image_argument("f", img) is img
    for given, says in ((np.zeros((2, 2, 3), np.uint8), "ndarray (for an (H, W, 3) uint8 array, pass Image.fromarray(a))"),
                        (Path("p.png"), f"{type(Path()).__name__} (for a file, pass taco.images.load_image(path))"),
                        ("p.png", "str (for a file, pass taco.images.load_image(path))"), (None, "NoneType")):
        with pytest.raises(TypeError, match=rf"^code_at_bpp takes a PIL image, not {re.escape(says)}$"):
            pil_image_argument("code_at_bpp", given)


# --------------------------------------------------------------------------- colour profiles


def _adobe_rgb() -> bytes:
    """The Adobe RGB (1998) profile of a shipped sample photo (skimage's rocket)."""
    return Image.open(SAMPLES / "skimage-rocket.png").info["icc_profile"]


def _tagged(mode: str, icc: bytes) -> Image.Image:
    img = Image.fromarray(np.array([[[100, 150, 100], [200, 40, 60], [128, 128, 128]]], np.uint8))
    img = img.convert(mode)
    img.info["icc_profile"] = icc
    return img


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_an_rgb_profile_other_than_srgb_is_converted_to_srgb(mode: str) -> None:
    from PIL import ImageCms

    src = _tagged(mode, _adobe_rgb())
    if mode == "RGBA":
        src.putalpha(128)  # see-through: dropping it loses something
    match = "colours converted from its 'Adobe RGB \\(1998\\)' profile to sRGB \\(it decodes as sRGB"
    rgb, got_mode = _one_warning_to_rgb(src, match + ("; the alpha channel is dropped" if mode == "RGBA" else "\\)$"))
    assert got_mode == mode and rgb.mode == "RGB" and "icc_profile" not in rgb.info
    expected = ImageCms.profileToProfile(
        src.convert("RGB"), ImageCms.ImageCmsProfile(io.BytesIO(_adobe_rgb())),
        ImageCms.createProfile("sRGB"), renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
        outputMode="RGB")
    assert np.array_equal(np.asarray(rgb), np.asarray(expected))
    (g_src, g_out) = (np.asarray(im.convert("RGB"), np.int32)[0, 0] for im in (src, rgb))
    assert g_out[1] - g_out[0] > g_src[1] - g_src[0]  # Adobe RGB's green is the more saturated


def _cmyk_profile(name: str) -> bytes:
    """A small ICC v2 CMYK printer profile, built here (no CMYK profile ships with a registry
    package): an ``A2B0`` lut16 table from CMYK to Lab with a 2-point grid, whose inks are
    softer than the naive conversion's (cyan is not (0, 255, 255), black is not (0, 0, 0))."""
    import itertools
    import struct

    def s15(x: float) -> bytes:
        return struct.pack(">i", round(x * 65536))

    def lab(c: int, m: int, y: int, k: int) -> tuple[float, float, float]:
        if k:
            return 10.0, 0.0, 0.0
        return max(90 - 25 * c - 30 * m - 8 * y, 15), -30 * c + 60 * m - 5 * y, -40 * c - 10 * m + 70 * y

    clut = []
    for c, m, y, k in itertools.product((0, 1), repeat=4):  # the first input varies slowest
        L, a, b = lab(c, m, y, k)
        clut += [round(L / 100 * 0xFF00), round((a + 128) * 256), round((b + 128) * 256)]
    a2b0 = (b"mft2" + bytes(4) + bytes([4, 3, 2, 0]) + b"".join(s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
            + struct.pack(">HH", 2, 2) + struct.pack(">8H", *[0, 65535] * 4)
            + struct.pack(f">{len(clut)}H", *clut) + struct.pack(">6H", *[0, 65535] * 3))
    text = name.encode() + b"\0"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(8 + 3 + 67)
    d50 = s15(0.9642) + s15(1.0) + s15(0.8249)
    tags = [(b"desc", desc), (b"wtpt", b"XYZ " + bytes(4) + d50), (b"cprt", b"text" + bytes(4) + b"none\0"),
            (b"A2B0", a2b0)]
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for sig, body in tags:
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body + bytes(-len(body) % 4)
    size = offset + len(data)
    header = (struct.pack(">I", size) + bytes(4) + struct.pack(">I", 0x02100000) + b"prtrCMYKLab "
              + bytes(12) + b"acsp" + bytes(28) + d50 + bytes(48))
    return header + struct.pack(">I", len(tags)) + table + data


def test_a_cmyk_profile_is_applied() -> None:
    """A CMYK photo's own profile says what its inks look like: the colours go through it, not
    through the naive conversion (which makes cyan (0, 255, 255) and black (0, 0, 0))."""
    from PIL import ImageCms

    icc = _cmyk_profile("Test press CMYK")
    src = Image.new("CMYK", (3, 1))
    src.putdata([(0, 0, 0, 0), (255, 0, 0, 0), (0, 0, 0, 255)])
    src.info["icc_profile"] = icc
    rgb, mode = _one_warning_to_rgb(src, "colours converted from its 'Test press CMYK' profile to sRGB")
    assert mode == "CMYK" and rgb.mode == "RGB" and "icc_profile" not in rgb.info
    expected = ImageCms.profileToProfile(src, ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                                         ImageCms.createProfile("sRGB"), outputMode="RGB",
                                         renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
    got = np.asarray(rgb)[0].astype(int)
    assert np.array_equal(got, np.asarray(expected)[0])
    naive = np.asarray(src.convert("RGB"))[0].astype(int)
    assert naive[1].tolist() == [0, 255, 255] and got[1][1] < 230  # a softer cyan
    assert naive[2].tolist() == [0, 0, 0] and got[2].min() > 10  # the ink's black is not 0


def test_a_cmyk_jpeg_keeps_its_profile_through_load_image(tmp_path: Path) -> None:
    """Saved and read back as a CMYK JPEG (Adobe's inverted CMYK, which Pillow undoes): the
    profile is found and used; a CMYK image with an RGB profile is converted naively, the
    profile said to be ignored."""
    icc = _cmyk_profile("Test press CMYK")
    path = tmp_path / "print.jpg"
    Image.new("CMYK", (16, 16), (255, 0, 0, 0)).save(path, icc_profile=icc, quality=95)
    img = load_image(path)
    assert img.mode == "CMYK" and img.info["icc_profile"] == icc
    rgb, _ = _one_warning_to_rgb(img, "'Test press CMYK' profile to sRGB")
    assert abs(int(np.asarray(rgb)[8, 8, 1]) - 255) > 25  # not the naive cyan
    cmyk = _tagged("CMYK", _adobe_rgb())  # the same line says its RGB profile is not used
    with pytest.warns(ImageConversionWarning) as said:
        to_rgb(cmyk)
    texts = [str(w.message) for w in said if issubclass(w.category, ImageConversionWarning)]
    assert len(texts) == 1 and "without colour management (it has no CMYK colour profile)" in texts[0]
    assert texts[0].endswith("is an RGB profile, not one for a CMYK image: it is ignored, as viewers ignore it")


def test_warnings_name_the_source_when_given() -> None:
    with pytest.warns(ImageConversionWarning, match="^photos/a.png: colours converted from its"):
        to_rgb(_tagged("RGB", _adobe_rgb()), source="photos/a.png")
    with pytest.warns(ImageConversionWarning, match="^b.png: the alpha channel of this RGBA"):
        to_rgb(Image.new("RGBA", (2, 2)), source="b.png")


def test_srgb_and_unreadable_profiles_leave_the_colours_alone() -> None:
    srgb = Image.open(SAMPLES / "skimage-chelsea.png")
    assert srgb.info["icc_profile"]  # 'sRGB IEC61966-2.1'
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rgb, _ = to_rgb(srgb)
    assert np.array_equal(np.asarray(rgb), np.asarray(srgb))
    broken = _tagged("RGB", b"not a profile")
    rgb, _ = _one_warning_to_rgb(broken, "colour profile cannot be read and is ignored")
    assert np.array_equal(np.asarray(rgb), np.asarray(broken))


def test_a_tagged_photo_is_coded_in_srgb_end_to_end(tmp_path: Path) -> None:
    """load_image keeps the profile through its EXIF turn; the codec codes the sRGB colours."""
    from taco.codec import coding_input

    path = tmp_path / "adobe.png"
    exif = Image.Exif()
    exif[0x0112] = 6  # turned a quarter: the 3x1 image codes as 1x3
    _tagged("RGB", _adobe_rgb()).save(path, icc_profile=_adobe_rgb(), exif=exif)
    with pytest.warns(ImageConversionWarning, match="Adobe RGB"):
        x, h, w, mode = coding_input(path)
    with pytest.warns(ImageConversionWarning):
        expected = to_rgb(load_image(path))[0]
    assert (h, w, mode) == (3, 1, "RGB") and expected.size == (1, 3)
    assert torch.equal((x[0, :, :h, :w] * 255).round().to(torch.uint8),
                       torch.from_numpy(np.array(expected)).permute(2, 0, 1))


# --------------------------------------------------------------------------- HEIC


#: Display P3's primaries and white as pillow-heif reports them (float32 values of an nclx box).
P3 = ((0.6800000071525574, 0.3199999928474426), (0.26499998569488525, 0.6899999976158142),
      (0.15000000596046448, 0.05999999865889549), (0.3127000033855438, 0.32899999618530273))
SRGB = ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06), (0.3127, 0.329))
#: The linear-light Display P3 -> sRGB matrix as published (both D65; e.g. in the CSS Color 4
#: sample code's matrices, rounded to 7 places), independent of taco's derivation.
P3_TO_SRGB = np.array([[1.2249401, -0.2249404, 0.0], [-0.0420569, 1.0420571, 0.0],
                       [-0.0196376, -0.0786361, 1.0982735]])


def _nclx(primaries: int, transfer: int, xy: tuple) -> dict:
    names = ("red", "green", "blue", "white")
    return {"color_primaries": primaries, "transfer_characteristics": transfer,
            "matrix_coefficients": 6, "full_range_flag": 1,
            **{f"color_primary_{c}_{a}": v for c, (x, y) in zip(names, xy, strict=True) for a, v in (("x", x), ("y", y))}}


def _coded_as(mode: str, nclx: dict) -> Image.Image:
    img = Image.fromarray(np.array([[[200, 60, 40], [20, 220, 30], [128, 128, 128], [255, 255, 255],
                                     [0, 0, 0], [90, 110, 240]]], np.uint8)).convert(mode)
    img.info["nclx_profile"] = nclx
    return img


def _srgb_reference(rgb: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    v = rgb / 255.0
    linear = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    out = np.clip(linear @ matrix.T, 0, 1)
    return np.rint(255 * np.where(out <= 0.0031308, 12.92 * out, 1.055 * out ** (1 / 2.4) - 0.055))


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_display_p3_code_points_are_converted_to_srgb(mode: str) -> None:
    src = _coded_as(mode, _nclx(12, 13, P3))
    if mode == "RGBA":
        src.putalpha(128)  # see-through: dropping it loses something
    match = "^colours converted from its Display P3 primaries to sRGB \\(it decodes as sRGB"
    rgb, got_mode = _one_warning_to_rgb(src, match + ("; the alpha channel is dropped" if mode == "RGBA" else "\\)$"))
    assert got_mode == mode and rgb.mode == "RGB"
    expected = _srgb_reference(np.asarray(src.convert("RGB"), np.float64), P3_TO_SRGB)
    got = np.asarray(rgb, np.float64)
    assert np.abs(got - expected).max() <= 1  # the published matrix, to one level
    assert got[0, 2].tolist() == [128, 128, 128] and got[0, 3].tolist() == [255, 255, 255]
    assert got[0, 0, 0] > 200 and got[0, 1, 1] > 220  # P3's red and green are the wider ones


def test_srgb_code_points_and_unknown_info_leave_the_colours_alone() -> None:
    for nclx in (_nclx(1, 13, SRGB), _nclx(2, 2, SRGB), "not a dict", {"color_primaries": 12},
                 _nclx(12, 13, ((0.68, 0.0), *P3[1:]))):  # a y of 0: not a colour space
        img = _coded_as("RGB", nclx)  # type: ignore[arg-type]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            rgb, _ = to_rgb(img)
        assert np.array_equal(np.asarray(rgb), np.asarray(img))


def test_an_icc_profile_wins_over_code_points() -> None:
    img = _tagged("RGB", _adobe_rgb())
    img.info["nclx_profile"] = _nclx(12, 13, P3)
    rgb, _ = _one_warning_to_rgb(img, "'Adobe RGB \\(1998\\)' profile")
    img.info.pop("nclx_profile")
    with pytest.warns(ImageConversionWarning, match="Adobe RGB"):
        alone, _ = to_rgb(img)
    assert np.array_equal(np.asarray(rgb), np.asarray(alone))


@pytest.mark.parametrize("primaries, xy, match", [
    (9, ((0.708, 0.292), (0.170, 0.797), (0.131, 0.046), (0.3127, 0.329)),
     "^its BT.2020 colours with a PQ \\(HDR\\) transfer are not converted"),
    (1, SRGB, "^its PQ \\(HDR\\) transfer is not tone-mapped"),
])
def test_hdr_code_points_are_coded_as_they_are_with_a_warning(primaries, xy, match) -> None:
    img = _coded_as("RGB", _nclx(primaries, 16, xy))
    rgb, _ = _one_warning_to_rgb(img, match)
    assert np.array_equal(np.asarray(rgb), np.asarray(img))


def test_damaged_code_points_never_stop_the_conversion() -> None:
    """Seeded mutations of Display P3's code points (any type and magnitude in one to three
    fields): to_rgb gives an RGB image and at most one warning line, whatever they say."""
    import random

    rng = random.Random(0)
    values = [0, 1, -1, 0.5, 1e-9, 1e308, float("nan"), float("inf"), -0.3, 2, 255, 2**70, "12",
              None, [], b"\0", 0.3127, 0.68, 0.0]
    outcomes = set()
    for _ in range(300):
        nclx = _nclx(12, 13, P3)
        for key in rng.sample(sorted(nclx), rng.randint(1, 3)):
            nclx[key] = rng.choice(values)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rgb, mode = to_rgb(_coded_as("RGB", nclx))
        assert rgb.mode == "RGB" and mode == "RGB" and rgb.size == (6, 1)
        assert len(caught) <= 1 and all("\n" not in str(w.message) for w in caught)
        outcomes.add(str(caught[0].message).split(" ")[0] if caught else "none")
    assert {"none", "colours", "its"} <= outcomes  # left alone, converted, refused with a reason


def test_a_display_p3_heic_photo_decodes_in_srgb(tmp_path: Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    path = tmp_path / "p3.heic"
    Image.fromarray(np.full((16, 16, 3), (200, 60, 40), np.uint8)).save(
        path, quality=95, color_primaries=12, transfer_characteristics=13, matrix_coefficients=6,
        full_range_flag=1)
    img = load_image(path)
    stored = np.asarray(img, np.float64)
    with pytest.warns(ImageConversionWarning, match="Display P3 primaries"):
        rgb, _ = to_rgb(img)
    assert np.abs(np.asarray(rgb, np.float64) - _srgb_reference(stored, P3_TO_SRGB)).max() <= 1


def test_a_heic_photo_is_read_upright_through_pillow_heif(tmp_path: Path) -> None:
    src = Image.open(SAMPLES / "skimage-chelsea.png").convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "cat.heic"
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()  # a writer, for the test; load_image registers the reader
    src.save(path, quality=95, exif=exif.tobytes())
    img = load_image(path)
    assert img.format == "HEIF" and img.size == (300, 451)  # turned once, by the reader
    assert img.info["exif_orientation"] == 6
    rgb, mode = to_rgb(img)
    turned = np.asarray(src.transpose(Image.Transpose.ROTATE_270), np.float64)
    assert mode == "RGB" and np.abs(np.asarray(rgb, np.float64) - turned).mean() < 4


def test_a_heic_photo_without_pillow_heif_says_what_to_install(tmp_path: Path, monkeypatch) -> None:
    import sys

    path = tmp_path / "x.HEIC"
    path.write_bytes(b"\0\0\0\x18ftypheic")
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # as if not installed
    with pytest.raises(ImageReadError, match="need the pillow-heif package: pip install pillow-heif"):
        load_image(path)


@pytest.mark.parametrize("mode", ["RGB", "CMYK"])
def test_damaged_profiles_never_stop_the_conversion(mode: str) -> None:
    """Seeded mutations of a real profile (Adobe RGB) and of a CMYK one: whatever LittleCMS
    makes of them (unreadable, no transform, a transform), to_rgb gives an RGB image and says in
    one line what it did (a CMYK image whose profile is ignored: a second line, the naive
    conversion's)."""
    import random

    from PIL import ImageCms

    rng = random.Random(0)
    icc = _adobe_rgb() if mode == "RGB" else _cmyk_profile("Test press CMYK")
    unusable = 0
    for _ in range(300):
        damaged = bytearray(icc)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        img = _tagged(mode, bytes(damaged))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rgb, got_mode = to_rgb(img)
        assert got_mode == mode and rgb.mode == "RGB" and rgb.size == img.size
        texts = [str(w.message) for w in caught]
        assert len(texts) <= (1 if mode == "RGB" else 2) and all("\n" not in t for t in texts)
        if texts and "cannot be used and is ignored" in texts[0]:
            unusable += 1
            assert np.array_equal(np.asarray(rgb), np.asarray(img.convert("RGB")))
            ImageCms.ImageCmsProfile(io.BytesIO(bytes(damaged)))  # it parses: only the transform fails
    assert unusable > 0


#: What a viewer shows for each EXIF orientation (TIFF/EXIF 2.3), as array operations on the
#: stored (rows, columns) pixels -- written out, not taken from Pillow's exif_transpose.
EXIF_UPRIGHT = {
    2: np.fliplr,                                     # mirrored left-right
    3: lambda a: np.rot90(a, 2),                      # upside down
    4: np.flipud,                                     # mirrored top-bottom
    5: lambda a: a.transpose(1, 0, 2),                # mirrored along the main diagonal
    6: lambda a: np.rot90(a, -1),                     # turned 90° clockwise to view
    7: lambda a: np.rot90(a, 2).transpose(1, 0, 2),   # mirrored along the other diagonal
    8: lambda a: np.rot90(a, 1),                      # turned 90° counter-clockwise to view
}


@pytest.mark.parametrize("orientation", sorted(EXIF_UPRIGHT))
def test_every_exif_orientation_is_shown_upright(tmp_path: Path, orientation: int) -> None:
    """All seven non-trivial orientations (phones write 3, 6 and 8; mirrored ones come from
    front cameras and editors), on a lossless PNG whose every pixel differs."""
    stored = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 13
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}.png"
    Image.fromarray(stored).save(path, exif=exif)
    img = load_image(path)
    assert img.info["exif_orientation"] == orientation
    np.testing.assert_array_equal(np.asarray(img.convert("RGB")), EXIF_UPRIGHT[orientation](stored))


@pytest.mark.parametrize("mode", ["RGBA", "LA", "La", "RGBa", "PA"])
def test_a_fully_opaque_alpha_channel_is_dropped_without_a_warning(mode: str) -> None:
    opaque = Image.new("RGBA", (3, 2), (10, 20, 30, 255)).convert(mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a folder of opaque screenshots: no warning per file
        rgb, got_mode = to_rgb(opaque, source="shot.png")
    assert got_mode == mode and rgb.mode == "RGB"
    see_through = opaque.copy()
    see_through.putpixel((2, 1), (10, 20, 30, 254)[:len(mode)] if mode in ("RGBA", "RGBa") else (10, 254))
    shown = "palette" if mode == "PA" else mode
    with pytest.warns(ImageConversionWarning, match=f"^shot.png: the alpha channel of this {shown} image"):
        to_rgb(see_through, source="shot.png")


def test_a_palette_transparency_no_pixel_uses_is_not_an_alpha_loss() -> None:
    image = Image.new("P", (2, 2), 0)
    image.putpalette([0, 0, 0, 255, 255, 255])
    image.info["transparency"] = 1
    with pytest.warns(ImageConversionWarning) as caught:
        to_rgb(image)
    assert [str(w.message) for w in caught] == ["the palette is not kept: the image is coded, and decodes, as RGB"]
    image.putpixel((0, 0), 1)
    with pytest.warns(ImageConversionWarning, match="its palette's transparency is dropped and its palette "
                                                    "is not kept"):
        to_rgb(image)


@pytest.mark.parametrize("magic, pixels", [
    (b"P4", b"\x00" * (50 * 400)),  # binary: 400 rows of 50 bytes, no blank byte among them
    (b"P1", b"0" * (400 * 400)),  # plain, its bits written without blanks between them
])
def test_a_large_pbm_loads(tmp_path, magic, pixels):
    """A PBM's header has two numbers (no maxval): its pixel data is not read as a third."""
    path = tmp_path / "a.pbm"
    path.write_bytes(magic + b"\n400 400\n" + pixels)
    image = load_image(path)
    assert image.size == (400, 400)
