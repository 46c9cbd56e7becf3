"""What to_rgb makes of the ways a real photo says its colours are not sRGB: an ICC profile
judged by what it does (not its name), a grey image's grey profile, a profile of another kind
than the image, a PNG gamma (gAMA), a camera JPEG's EXIF Adobe RGB mark."""

from __future__ import annotations

import gc
import io
import struct
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from taco.colour import ColourProfileConvertedWarning, ImageConversionWarning, to_rgb
from taco.images import image_to_tensor, load_image
from taco.samples import SAMPLES_DIR

RAMP = np.arange(256, dtype=np.uint8).reshape(16, 16)


def _s15(x: float) -> bytes:
    return struct.pack(">i", round(x * 65536))


def _tag_xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + b"\0" * 4 + _s15(x) + _s15(y) + _s15(z)


def _tag_curve(gamma: float) -> bytes:
    return b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def _tag_desc(text: str) -> bytes:
    t = text.encode() + b"\0"
    return b"desc" + b"\0" * 4 + struct.pack(">I", len(t)) + t + b"\0" * 8 + b"\0\0\0" + b"\0" * 67


def _icc(name: str, space: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    """A v2 display ICC profile of colour ``space`` (b"RGB ", b"GRAY") with ``tags``."""
    tags = [(b"desc", _tag_desc(name)), (b"cprt", b"text" + b"\0" * 4 + b"none\0"),
            (b"wtpt", _tag_xyz(0.9642, 1.0, 0.82491)), *tags]
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for sig, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    body = struct.pack(">I", len(tags)) + table + data
    header = (struct.pack(">I", 128 + len(body)) + b"lcms" + bytes([2, 0x10, 0, 0]) + b"mntr" + space
              + b"XYZ " + b"\0" * 12 + b"acsp" + b"APPL" + b"\0" * 20 + struct.pack(">I", 0)
              + _s15(0.9642) + _s15(1.0) + _s15(0.82491) + b"lcms" + b"\0" * 44)
    return header + body


def _rgb_icc(name: str, gamma: float) -> bytes:
    """sRGB's primaries (D50-adapted colorants) with a pure ``gamma`` curve (1.0: linear)."""
    colorants = [(b"rXYZ", (0.4361, 0.2225, 0.0139)), (b"gXYZ", (0.3851, 0.7169, 0.0971)),
                 (b"bXYZ", (0.1431, 0.0606, 0.7141))]
    return _icc(name, b"RGB ", [(sig, _tag_xyz(*xyz)) for sig, xyz in colorants]
                + [(sig, _tag_curve(gamma)) for sig in (b"rTRC", b"gTRC", b"bTRC")])


def _grey_icc(name: str, gamma: float) -> bytes:
    return _icc(name, b"GRAY", [(b"kTRC", _tag_curve(gamma))])


def _srgb_photo_icc() -> bytes:
    """The 'sRGB IEC61966-2.1' profile photos carry (a shipped sample's)."""
    icc = Image.open(SAMPLES_DIR / "skimage-astronaut.png").info["icc_profile"]
    assert isinstance(icc, bytes)
    return icc


def _reference(image: Image.Image, icc: bytes) -> np.ndarray:
    out = ImageCms.profileToProfile(image, ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                                    ImageCms.createProfile("sRGB"), outputMode="RGB",
                                    renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
    assert out is not None
    return np.asarray(out)


def _colour_image() -> Image.Image:
    return Image.fromarray(np.stack([RAMP, RAMP[::-1], np.full_like(RAMP, 90)], axis=-1))


def _silent_to_rgb(image: Image.Image) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rgb, _ = to_rgb(image)
    return rgb


# --------------------------------------------------------------------------- sRGB by content


def test_a_linear_profile_named_srgb_is_converted(tmp_path: Path) -> None:
    icc = _rgb_icc("sRGB-elle-V2-g10.icc", 1.0)  # Krita's linear sRGB: sRGB's name, not its curve
    path = tmp_path / "linear.png"
    _colour_image().save(path, icc_profile=icc)
    with pytest.warns(ColourProfileConvertedWarning, match="'sRGB-elle-V2-g10.icc' profile to sRGB") as said:
        rgb, mode = to_rgb(load_image(path))
    assert len(said) == 1 and mode == "RGB" and "icc_profile" not in rgb.info
    assert np.array_equal(np.asarray(rgb), _reference(_colour_image(), icc))
    assert np.abs(np.asarray(rgb).astype(int) - np.asarray(_colour_image())).max() > 50


def test_an_srgb_photo_stays_silent_and_cheap(tmp_path: Path) -> None:
    path = tmp_path / "phone.jpg"
    _colour_image().save(path, icc_profile=_srgb_photo_icc(), quality=95)
    image = load_image(path)
    rgb = _silent_to_rgb(image)
    assert rgb is image and rgb.info["icc_profile"] == _srgb_photo_icc()
    start = time.perf_counter()
    for _ in range(20):
        _silent_to_rgb(load_image(path))  # its profile's check is cached by its bytes
    assert (time.perf_counter() - start) / 20 < 0.05


def test_a_profile_that_is_srgb_under_another_name_stays_silent() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image = _colour_image()
    image.info["icc_profile"] = icc
    assert np.array_equal(np.asarray(_silent_to_rgb(image)), np.asarray(_colour_image()))
    gamma_22 = _colour_image()  # a pure 2.2 curve is not sRGB's: its darks differ
    gamma_22.info["icc_profile"] = _rgb_icc("sRGB (gamma 2.2)", 2.2)
    with pytest.warns(ColourProfileConvertedWarning, match="'sRGB \\(gamma 2.2\\)' profile"):
        to_rgb(gamma_22)


# --------------------------------------------------------------------------- grey images


@pytest.mark.parametrize("gamma", [1.8, 1.0])
def test_a_grey_jpeg_is_converted_through_its_grey_profile(tmp_path: Path, gamma: float) -> None:
    icc = _grey_icc(f"Gray Gamma {gamma}", gamma)
    path = tmp_path / "scan.jpg"
    Image.fromarray(RAMP).save(path, icc_profile=icc, quality=100)
    image = load_image(path)
    with pytest.warns(ColourProfileConvertedWarning,
                      match=f"^scan.jpg: colours converted from its 'Gray Gamma {gamma}' profile to sRGB "
                            "\\(it decodes as sRGB grey\\)$") as said:
        rgb, mode = to_rgb(image, source="scan.jpg")
    assert len(said) == 1 and mode == "L" and "icc_profile" not in rgb.info
    expected = _reference(image.convert("L"), icc)[..., 1]
    got = np.asarray(rgb)
    assert np.array_equal(got[..., 0], expected) and np.array_equal(got[..., 2], expected)
    assert np.abs(expected.astype(int) - np.asarray(image)).max() > 15  # a viewer shows it lighter


def test_grey_with_alpha_and_16_bit_grey_are_converted_in_their_mode() -> None:
    icc = _grey_icc("Gray Gamma 1.8", 1.8)
    expected = _reference(Image.fromarray(RAMP), icc)[..., 1]
    la = Image.merge("LA", (Image.fromarray(RAMP), Image.new("L", (16, 16), 128)))
    la.info["icc_profile"] = icc
    with pytest.warns(ImageConversionWarning) as said:
        rgb, mode = to_rgb(la)
    texts = [str(w.message) for w in said]
    assert mode == "LA" and len(texts) == 2 and "'Gray Gamma 1.8' profile" in texts[0]
    assert "alpha channel of this LA image is dropped" in texts[1]
    assert np.array_equal(np.asarray(rgb)[..., 0], expected)
    wide = Image.fromarray((RAMP.astype(np.uint16) * 257).astype("<u2"))
    wide.info["icc_profile"] = icc
    with pytest.warns(ImageConversionWarning) as said:
        rgb, mode = to_rgb(wide)
    assert mode == "I;16" and len(said) == 2 and "'Gray Gamma 1.8' profile" in str(said[0].message)
    assert np.array_equal(np.asarray(rgb)[..., 0], expected)


def test_a_grey_image_with_an_srgb_like_grey_profile_stays_silent() -> None:
    # sRGB's curve on a grey image: a viewer already shows its numbers
    image = Image.fromarray(RAMP)
    image.info["icc_profile"] = _srgb_grey_icc()
    rgb = _silent_to_rgb(image)
    assert np.array_equal(np.asarray(rgb)[..., 0], RAMP)


def _grey_icc_shifted(shift: int) -> bytes:
    """A grey profile with sRGB's curve but for level 128, read as sRGB's level 128 + ``shift``
    (LittleCMS smooths it: the ramp then moves by at most about half the shift)."""
    v = np.arange(256) / 255.0
    v[128] = (128 + shift) / 255.0
    linear = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    curve = b"curv" + b"\0" * 4 + struct.pack(">I", 256) + np.rint(linear * 65535).astype(">u2").tobytes()
    return _icc("almost sRGB grey", b"GRAY", [(b"kTRC", curve)])


def test_a_grey_profile_moving_levels_by_two_is_srgb_and_by_three_is_not() -> None:
    # a profile is sRGB when it moves no level by more than 2 (2 included): a grey ramp moved by
    # at most 2 stays as it is, silently; one moved by 3 is converted, with a warning
    within = Image.fromarray(RAMP)
    within.info["icc_profile"] = _grey_icc_shifted(4)  # the ramp moves by 2 at most
    rgb = _silent_to_rgb(within)
    assert np.array_equal(np.asarray(rgb)[..., 0], RAMP)
    beyond = Image.fromarray(RAMP)
    beyond.info["icc_profile"] = _grey_icc_shifted(6)  # by 3
    with pytest.warns(ColourProfileConvertedWarning, match="'almost sRGB grey' profile to sRGB") as said:
        to_rgb(beyond, "beyond.png")
    assert len(said) == 1


def _srgb_grey_icc() -> bytes:
    """A grey profile with sRGB's curve, sampled (a 1024-entry curv tag)."""
    v = np.linspace(0.0, 1.0, 1024)
    linear = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    table = np.rint(linear * 65535).astype(">u2").tobytes()
    curve = b"curv" + b"\0" * 4 + struct.pack(">I", 1024) + table
    return _icc("sRGB grey", b"GRAY", [(b"kTRC", curve)])


@pytest.mark.parametrize(("mode", "icc", "kind"), [
    ("L", "rgb", "an RGB profile, not one for a grey image"),
    ("RGB", "grey", "a grey profile, not one for a colour image"),
])
def test_a_profile_of_another_kind_than_the_image_is_ignored_with_a_warning(mode: str, icc: str,
                                                                             kind: str) -> None:
    image = Image.fromarray(RAMP).convert(mode)
    image.info["icc_profile"] = _rgb_icc("Linear RGB", 1.0) if icc == "rgb" else _grey_icc("Gray Gamma 1.8", 1.8)
    with pytest.warns(ImageConversionWarning, match=f"is {kind}: it is ignored") as said:
        rgb, got_mode = to_rgb(image)
    assert len(said) == 1 and got_mode == mode and "icc_profile" not in rgb.info
    assert np.array_equal(np.asarray(rgb.convert("L")), RAMP)


# --------------------------------------------------------------------------- PNG gamma


def test_a_png_gamma_far_from_srgb_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "linear.png"
    _colour_image().save(path)
    data = path.read_bytes()
    import zlib

    gama = b"gAMA" + struct.pack(">I", 100000)  # gamma 1.0: linear samples
    chunk = struct.pack(">I", 4) + gama + struct.pack(">I", zlib.crc32(gama))
    path.write_bytes(data[:33] + chunk + data[33:])  # after IHDR
    image = load_image(path)
    assert image.info["gamma"] == 1.0
    with pytest.warns(ColourProfileConvertedWarning, match="'PNG gamma 1.00' profile") as said:
        rgb, mode = to_rgb(image)
    assert len(said) == 1 and mode == "RGB" and said[0].message.profile == "PNG gamma 1.00"  # type: ignore[union-attr]
    linear = np.asarray(_colour_image()) / 255.0
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    assert np.abs(np.asarray(rgb).astype(int) - np.rint(srgb * 255)).max() <= 1


def test_a_png_gamma_of_2_2_or_an_srgb_chunk_stays_silent() -> None:
    image = _colour_image()
    image.info["gamma"] = 0.45455
    assert _silent_to_rgb(image) is image
    image.info["gamma"], image.info["srgb"] = 1.0, 0  # an sRGB chunk wins, as viewers read it
    assert _silent_to_rgb(image) is image


# --------------------------------------------------------------------------- EXIF Adobe RGB


def _camera_jpeg(path: Path, colour_space: int, index: str) -> Path:
    exif = Image.Exif()
    exif[0x010F] = "Camera"
    camera = exif.get_ifd(0x8769)
    camera[0xA001], camera[0xA005] = colour_space, {0x0001: index}  # ColorSpace, the interop IFD
    _colour_image().save(path, exif=exif, quality=100)
    return path


def test_a_camera_jpeg_marked_adobe_rgb_in_exif_is_converted(tmp_path: Path) -> None:
    image = load_image(_camera_jpeg(tmp_path / "_DSC0001.JPG", 0xFFFF, "R03"))
    with pytest.warns(ColourProfileConvertedWarning, match="its EXIF marks it Adobe RGB") as said:
        rgb, mode = to_rgb(image)
    assert len(said) == 1 and mode == "RGB"
    assert said[0].message.profile == "Adobe RGB"  # type: ignore[union-attr]
    adobe = (Image.open(SAMPLES_DIR / "skimage-rocket.png").info["icc_profile"])  # Adobe RGB (1998)
    assert np.abs(np.asarray(rgb).astype(int) - _reference(image, adobe)).max() <= 2


def test_a_camera_jpeg_marked_srgb_stays_silent(tmp_path: Path) -> None:
    image = load_image(_camera_jpeg(tmp_path / "_DSC0002.JPG", 1, "R98"))
    assert _silent_to_rgb(image) is image


def _cut_interop_block() -> bytes:
    """An EXIF block with ColorSpace uncalibrated and an interoperability index whose count runs
    past the block (Pillow: "Tag data larger than file")."""
    exif = Image.Exif()
    camera = exif.get_ifd(0x8769)
    camera[0xA001], camera[0xA005] = 0xFFFF, {0x0001: "R03"}
    block = exif.tobytes()
    index = b"\x00\x01\x00\x02\x00\x00\x00\x04R03\x00"  # tag 1, ASCII, 4 bytes: "R03\0"
    assert block.count(index) == 1
    return block.replace(index, b"\x00\x01\x00\x02\x00\x00\xff\xffR03\x00")


def test_a_broken_exif_sub_ifd_reads_as_srgb_without_a_warning(tmp_path: Path) -> None:
    # ColorSpace uncalibrated, and an interoperability index whose count runs past the block:
    # such a block reads as sRGB, and what Pillow says of the cut tag while taco looks for the
    # Adobe RGB mark is no news to a user (the file coded the same before taco looked)
    path = tmp_path / "_DSC0003.JPG"
    _colour_image().save(path, exif=_cut_interop_block())
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        image = load_image(path)
        rgb, mode = to_rgb(image, source=str(path))
    assert [(w.category, str(w.message)) for w in said] == []
    assert rgb is image and mode == "RGB" and "exif_adobe_rgb" not in image.info  # no key of taco's left


def test_a_broken_exif_sub_ifd_in_an_image_opened_with_pillow_is_silent_too(tmp_path: Path) -> None:
    # the same block in a PIL image given straight to to_rgb (taco.compress(pil_image) and
    # image_to_tensor do): Pillow's "Tag data larger than file" stays unsaid there too
    path = tmp_path / "_DSC0004.JPG"
    _colour_image().save(path, exif=_cut_interop_block())
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        with Image.open(path) as image:
            image.load()
            rgb, mode = to_rgb(image, source=str(path))
            image_to_tensor(image)
    assert [(w.category, str(w.message)) for w in said] == []
    assert rgb is image and mode == "RGB"


def test_a_grey_image_with_an_srgb_profile_is_left_alone_silently(tmp_path: Path) -> None:
    # Pillow's convert("L") keeps an sRGB photo's profile, and its PNG save writes it: sRGB's
    # grey levels are the image's own, so there is nothing to convert and nothing to say
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = tmp_path / "grey.png"
    _colour_image().convert("L").save(path, icc_profile=srgb)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        image = load_image(path)
        rgb, mode = to_rgb(image, source=str(path))
    assert [str(w.message) for w in said] == []
    assert mode == "L" and np.array_equal(np.asarray(rgb), np.asarray(image.convert("RGB")))


# --------------------------------------------------------------------------- profiles kept


def _padded(icc: bytes, fill: int, size: int) -> bytes:
    """``icc`` with ``size`` bytes of ``fill`` after its tags (its header's length says so)."""
    padded = icc + bytes([fill]) * size
    return struct.pack(">I", len(padded)) + padded[4:]


def test_profiles_checked_are_not_kept_only_their_facts() -> None:
    # a batch of files each with its own large profile: what is kept of each is its facts, not
    # its bytes (16 profiles of 40 MB were kept whole: out of memory under a 4 GiB limit)
    base = _rgb_icc("Linear RGB", 1.0)
    image = _colour_image()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for fill in range(20):
            image.info["icc_profile"] = _padded(base, fill, 2 << 20)
            with pytest.warns(ColourProfileConvertedWarning, match="'Linear RGB' profile"):
                to_rgb(image)
        del image.info["icc_profile"]
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 4 << 20, f"{kept / 2**20:.1f} MiB kept after 20 profiles of 2 MiB"


def test_a_profile_checked_again_gives_the_same_result() -> None:
    image = _colour_image()
    image.info["icc_profile"] = _padded(_rgb_icc("Linear RGB (again)", 1.0), 7, 1000)
    results = []
    for _ in range(2):  # worked out, then remembered
        with pytest.warns(ColourProfileConvertedWarning) as said:
            rgb, mode = to_rgb(image, source="again.png")
        results.append((np.asarray(rgb).tobytes(), mode, [str(w.message) for w in said]))
    assert results[0] == results[1]
    assert results[0][2] == ["again.png: colours converted from its 'Linear RGB (again)' profile to sRGB "
                             "(it decodes as sRGB)"]
    srgb = _colour_image()  # an sRGB one stays silent the second time too
    srgb.info["icc_profile"] = _srgb_photo_icc()
    assert _silent_to_rgb(srgb) is srgb and _silent_to_rgb(srgb) is srgb


# --------------------------------------------------------------------------- CMYK, other kinds


@pytest.mark.parametrize(("icc", "kind"), [("rgb", "an RGB"), ("grey", "a grey")])
def test_a_cmyk_image_with_a_profile_of_another_kind_says_it_is_ignored(icc: str, kind: str) -> None:
    image = Image.new("CMYK", (4, 4), (0, 128, 255, 30))
    name = "Linear RGB" if icc == "rgb" else "Gray Gamma 1.8"
    image.info["icc_profile"] = _rgb_icc(name, 1.0) if icc == "rgb" else _grey_icc(name, 1.8)
    with pytest.warns(ImageConversionWarning) as said:
        rgb, mode = to_rgb(image, source="print.jpg")
    assert [str(w.message) for w in said] == [  # one line: what is done, and why the profile is not used
        "print.jpg: CMYK is converted to RGB without colour management (it has no CMYK colour profile); "
        f"it decodes as RGB; its colour profile '{name}' is {kind} profile, not one for a CMYK image: it "
        "is ignored, as viewers ignore it"]
    assert mode == "CMYK" and "icc_profile" not in rgb.info
    assert np.array_equal(np.asarray(rgb), np.asarray(image.convert("RGB")))


def test_a_cmyk_jpeg_with_an_unreadable_profile_says_so_on_its_one_line(tmp_path: Path) -> None:
    path = tmp_path / "print.jpg"
    Image.new("CMYK", (8, 8), (0, 128, 255, 30)).save(path, icc_profile=b"not a profile" * 20)
    with pytest.warns(ImageConversionWarning) as said:
        rgb, mode = to_rgb(load_image(path), source="print.jpg")
    assert [str(w.message) for w in said] == [  # not a second line for the profile
        "print.jpg: CMYK is converted to RGB without colour management (it has no CMYK colour profile); "
        "it decodes as RGB; its colour profile cannot be read and is ignored (cannot open profile from string)"]
    assert mode == "CMYK" and "icc_profile" not in rgb.info


def test_an_xyz_profile_is_called_an_xyz_profile() -> None:
    image = _colour_image()
    image.info["icc_profile"] = _icc("PCS XYZ", b"XYZ ", [])
    with pytest.warns(ImageConversionWarning, match="'PCS XYZ' is an XYZ profile, not one for a colour image"):
        to_rgb(image)


# --------------------------------------------------------------------------- PNG gamma, other modes


def test_a_bilevel_png_gamma_is_dropped_silently() -> None:
    image = Image.fromarray(RAMP > 127)  # mode 1: no gamma moves 0 or 255
    image.info["gamma"] = 1.0
    rgb = _silent_to_rgb(image)
    assert "gamma" not in rgb.info and "gamma" in image.info
    assert np.array_equal(np.asarray(rgb)[..., 0], np.where(RAMP > 127, 255, 0))


def test_a_16_bit_grey_png_gamma_is_applied_in_its_mode() -> None:
    wide = Image.fromarray((RAMP.astype(np.uint16) * 257).astype("<u2"))
    wide.info["gamma"] = 1.0  # linear samples
    with pytest.warns(ImageConversionWarning) as said:
        rgb, mode = to_rgb(wide, source="depth.png")
    assert [(w.category, str(w.message)) for w in said] == [
        (ColourProfileConvertedWarning, "depth.png: its PNG gamma (gAMA, no colour profile) is not sRGB's: colours "
                                        "converted from its 'PNG gamma 1.00' profile to sRGB (it decodes as sRGB grey)"),
        (ImageConversionWarning, "depth.png: 16-bit grey samples are coded with 8-bit precision (decoded as 16-bit "
                                 "grey, 8 significant bits)")]
    assert mode == "I;16" and said[0].message.profile == "PNG gamma 1.00"  # type: ignore[union-attr]
    linear = RAMP / 255.0
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    got = np.asarray(rgb)
    assert np.abs(got[..., 0].astype(int) - np.rint(srgb * 255)).max() <= 1
    assert np.array_equal(got[..., 0], got[..., 2])


def test_pillows_decompression_bomb_warning_is_dropped_inside_a_pillow_warnings_block(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """taco's own pixel cap decides: Pillow's DecompressionBombWarning (between MAX_IMAGE_PIXELS
    and twice that) is neither warned nor kept inside taco.colour.PillowWarnings."""
    from taco.colour import PillowWarnings

    path = tmp_path / "big.png"
    Image.new("L", (100, 100)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 6_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with PillowWarnings() as caught, Image.open(path) as image:
            assert image.size == (100, 100)
    assert caught == []


def test_a_pillow_module_imported_after_the_first_block_is_watched_too(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A Pillow module imported once blocks were already used (a plugin loaded later) warns
    into the block of the thread it runs in, as the modules imported before do."""
    import sys
    import types

    from taco.colour import PillowWarnings

    with PillowWarnings():  # Pillow's modules of now watched
        pass
    late = types.ModuleType("PIL._taco_late_plugin")
    late.warnings = warnings  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "PIL._taco_late_plugin", late)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with PillowWarnings() as caught:
            late.warnings.warn("Corrupt EXIF data")  # type: ignore[attr-defined]
    assert caught == ["Corrupt EXIF data"]
