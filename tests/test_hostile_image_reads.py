"""Hostile image files read by :func:`taco.images.load_image`: refused from their headers,
before anything large is allocated or decoded, each with a line that says why (an ICO whose
embedded PNG Pillow decoded at open, a TIFF tile libtiff allocates whole, a progressive JPEG of
thousands of scans); Pillow's own decompression-bomb check left in force while a header is read
at taco's default cap; :func:`taco.images.pillow_pixel_limit` checks its argument before it
changes anything, and a forked child leaves it as the forking thread would."""

from __future__ import annotations

import io
import os
import struct
import time
import warnings
import zlib

import pytest
from PIL import Image, ImageCms, ImageFile

import taco.images
from taco.errors import TacoValueError
from taco.images import (
    MAX_JPEG_SCANS,
    ImageConversionWarning,
    ImageReadError,
    load_image,
    open_image,
    pillow_pixel_limit,
    to_rgb,
)


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int) -> bytes:
    """A 1-bit grey PNG declaring ``width`` x ``height``, with a few bytes of pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def ico(embedded: bytes) -> bytes:
    """An ICO whose one directory entry says 16x16 and holds ``embedded`` (a PNG)."""
    return (struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 16, 16, 0, 0, 1, 32, len(embedded), 22)
            + embedded)


def test_an_icon_is_refused_by_its_content_whatever_its_name(tmp_path):
    """Pillow's ICO opener decoded its embedded PNG at open (30000x30000 in 109 KB: 901 MB)."""
    path = tmp_path / "photo.png"
    path.write_bytes(ico(png(16, 16)))
    for call in (lambda: load_image(path), lambda: load_image("upload.png", data=path.read_bytes()),
                 lambda: open_image(path)):
        with pytest.raises(ImageReadError, match=r"not an image format taco reads \(it is ICO\)$"):
            call()


def test_an_unknown_file_is_still_not_identified(tmp_path):
    path = tmp_path / "x.png"
    path.write_bytes(b"no image here at all")
    with pytest.raises(ImageReadError, match="not an image file Pillow can identify"):
        load_image(path)


def test_headers_are_read_with_pillows_check_in_force(tmp_path, monkeypatch):
    """At the default cap (within Pillow's limit) no header is read with Pillow's limit lifted:
    another thread's plain Pillow kept its bomb check (before: lifted for every header)."""
    seen = []
    opened = Image.open

    def spy(*args, **kwargs):
        seen.append(Image.MAX_IMAGE_PIXELS)
        return opened(*args, **kwargs)

    monkeypatch.setattr(Image, "open", spy)
    path = tmp_path / "small.png"
    Image.new("RGB", (8, 8)).save(path)
    before = Image.MAX_IMAGE_PIXELS
    load_image(path)
    open_image(path).close()
    assert seen and set(seen) == {before}


def test_pillows_refusal_is_tacos_cap_refusal(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(png(20000, 10000))  # 200 MP, over Pillow's ~179 MP: its check refuses
    for call in (lambda: load_image(path), lambda: open_image(path)):
        with pytest.raises(ImageReadError, match=r"a 20000x10000 image \(200,000,000 pixels\), over the cap of 100,000,000") as exc:
            call()
        assert exc.value.size == (20000, 10000) and exc.value.max_pixels == 100_000_000


def webp_canvas(width: int, height: int) -> bytes:
    """An animated WebP of 16x16 frames whose VP8X canvas says ``width`` x ``height``."""
    frames = [Image.new("RGB", (16, 16), (i, 0, 0)) for i in range(2)]
    buf = io.BytesIO()
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], duration=1, lossless=True)
    data = bytearray(buf.getvalue())
    at = data.find(b"VP8X")
    data[at + 12:at + 15] = (width - 1).to_bytes(3, "little")
    data[at + 15:at + 18] = (height - 1).to_bytes(3, "little")
    return bytes(data)


def gif_first_frame(width: int, height: int) -> bytes:
    """A GIF with a 1x1 screen (a comment before its frame) whose first frame says ``width`` x
    ``height``."""
    return (b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0, 0, 0) + b"!\xfe\x03abc\x00"
            + b"," + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00;")


@pytest.mark.parametrize("name, data, size", [
    ("canvas.webp", webp_canvas(16384, 16384), (16384, 16384)),
    ("frame.gif", gif_first_frame(65535, 65535), (65535, 65535)),
])
@pytest.mark.parametrize("cap", [100_000_000, 150_000_000])
def test_pillows_refusal_in_its_opener_is_tacos_cap_refusal(tmp_path, name, data, size, cap):
    # WebP's and GIF's openers run Pillow's check themselves: the size comes from the header
    path = tmp_path / name
    path.write_bytes(data)
    for call in (lambda: load_image(path, max_pixels=cap), lambda: open_image(path, max_pixels=cap),
                 lambda: load_image("-", data=data, max_pixels=cap)):
        with pytest.raises(ImageReadError, match=f"a {size[0]}x{size[1]} image \\({size[0] * size[1]:,} pixels\\), "
                                                 f"over the cap of {cap:,}") as exc:
            call()
        assert exc.value.size == size and exc.value.max_pixels == cap


def test_the_cap_refusal_names_only_ways_that_exist(tmp_path):
    # demo, bench, evaluate, caption and train have no --max-pixels: the refusal names the Python
    # call that lifts the cap (tests/test_cap_refusal.py runs it), no option
    path = tmp_path / "big.png"
    path.write_bytes(png(20000, 10000))
    with pytest.raises(ImageReadError) as exc:
        load_image(path)
    assert str(exc.value).endswith("read it with taco.images.load_image(path, max_pixels=None) "
                                   "and pass that image to taco.compress")
    assert "--max-pixels" not in str(exc.value)


def test_the_command_lines_check_names_the_size(tmp_path):
    from taco.cli.compress import over_cap

    path = tmp_path / "big.png"
    path.write_bytes(png(20000, 10000))
    before = Image.MAX_IMAGE_PIXELS
    assert over_cap(path, 100_000_000).startswith("a 20000x10000 image (200,000,000 pixels), over the cap")
    assert over_cap(path, None) is None
    assert Image.MAX_IMAGE_PIXELS == before


def test_running_out_of_memory_is_not_called_corrupt(tmp_path, monkeypatch):
    path = tmp_path / "small.png"
    Image.new("RGB", (8, 8)).save(path)

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_memory)
    with pytest.raises(ImageReadError, match=r"out of memory reading it \(an allocation failed\)$"):
        load_image(path)
    monkeypatch.setattr(Image, "open", no_memory)
    with pytest.raises(ImageReadError, match=r"out of memory reading it \(an allocation failed\)$"):
        load_image(path)


@pytest.mark.parametrize(("bad", "error"), [("100000000", TypeError), (0, TacoValueError), (1.5, TypeError)])
def test_a_bad_cap_is_refused_before_anything_changes(bad, error):
    """A str cap counted a reader in, then failed: Pillow's limit was never given back."""
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(error, match="max_pixels"):
        with pillow_pixel_limit(bad):
            pass
    assert taco.images._limit_inside == 0 and Image.MAX_IMAGE_PIXELS == before
    with pillow_pixel_limit(None):
        assert Image.MAX_IMAGE_PIXELS is None
    assert Image.MAX_IMAGE_PIXELS == before


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_a_child_forked_inside_the_block_leaves_it_as_the_parent_would():
    """The child's count was set to 0 by the fork hook, then its thread left the block: -1, and
    Pillow's limit stayed lifted in the child for good."""
    before = Image.MAX_IMAGE_PIXELS
    with pillow_pixel_limit(None):
        pid = os.fork()
        if pid == 0:
            inside = Image.MAX_IMAGE_PIXELS is None
    if pid == 0:
        ok = inside and Image.MAX_IMAGE_PIXELS == before and taco.images._limit_inside == 0
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert Image.MAX_IMAGE_PIXELS == before


def tiff(width: int, height: int, tile: int) -> bytes:
    """A little-endian 8-bit grey deflate TIFF of ``width`` x ``height`` in one ``tile`` x
    ``tile`` tile of a few bytes."""
    data = zlib.compress(b"\0" * 16)
    entries = sorted([(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 8),
                      (262, 3, 1, 1), (277, 3, 1, 1), (322, 4, 1, tile), (323, 4, 1, tile),
                      (324, 4, 1, 8 + 2 + 10 * 12 + 4), (325, 4, 1, len(data))])
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + bytes(4)
    return b"II*\0" + struct.pack("<I", 8) + ifd + data


def test_a_tiff_tile_far_over_its_image_is_refused_before_decoding(tmp_path):
    """libtiff allocated the 32768x32768 tile of a 64x64 image whole: 1 GiB (16-bit RGB: 6 GiB)."""
    path = tmp_path / "tiles.tif"
    path.write_bytes(tiff(64, 64, 32768))
    with pytest.raises(ImageReadError, match=r"its TIFF tiles are 32768x32768 \(1,073,741,824 pixels each\) "
                                             r"for a 64x64 image: refused before decoding"):
        load_image(path)


def test_a_tiled_tiff_reads():
    b = io.BytesIO()
    Image.new("L", (100, 60), 200).save(b, "TIFF", tiffinfo={322: 64, 323: 64})
    small = load_image("tiled.tif", data=b.getvalue())
    assert small.size == (100, 60)
    with pytest.raises(ImageReadError, match="file is truncated or corrupt"):
        load_image("tiled.tif", data=tiff(64, 64, 64))  # a tile over the image, as allowed: decoded


def progressive_jpeg(scans: int, width: int = 64, height: int = 64) -> bytes:
    """A progressive grey JPEG declaring ``width`` x ``height``, of one DC scan and ``scans`` - 1
    empty AC scans."""
    b = io.BytesIO()
    Image.new("L", (16, 16), 128).save(b, "JPEG", progressive=True)
    d = b.getvalue()
    sof_at = d.index(b"\xff\xc2")
    sof = bytearray(d[sof_at:sof_at + 2 + struct.unpack(">H", d[sof_at + 2:sof_at + 4])[0]])
    sof[5:9] = struct.pack(">HH", height, width)
    head = d[:sof_at] + bytes(sof) + d[sof_at + len(sof):d.index(b"\xff\xda")]
    dc = b"\xff\xda" + struct.pack(">H", 8) + b"\x01\x01\x00\x00\x00\x00"
    ac = b"\xff\xda" + struct.pack(">H", 8) + b"\x01\x01\x00\x01\x3f\x00"
    return head + dc + bytes(4) + b"".join(ac + bytes(4) for _ in range(scans - 1)) + b"\xff\xd9"


def test_a_progressive_jpeg_of_thousands_of_scans_is_refused_before_decoding():
    """10000x10000 declared in 14 KB of 1,000 empty scans took 8.6 s, 56 KB 35 s."""
    data = progressive_jpeg(MAX_JPEG_SCANS + 1, 10000, 10000)
    t0 = time.perf_counter()
    with pytest.raises(ImageReadError, match=r"a progressive JPEG of 1,001 scans \(over 1,000;"):
        load_image("scans.jpg", data=data)
    assert time.perf_counter() - t0 < 1.0


def test_a_progressive_jpeg_within_the_scans_is_read(tmp_path):
    try:
        load_image("scans.jpg", data=progressive_jpeg(MAX_JPEG_SCANS))
    except ImageReadError as e:
        assert "progressive JPEG of" not in str(e)  # its empty scans may be corrupt, not refused
    b = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(b, "JPEG", progressive=True)
    assert load_image("photo.jpg", data=b.getvalue()).size == (64, 48)


def test_a_cmyk_profile_that_cannot_be_used_is_said_once_as_such():
    """It was said to have 'no CMYK colour profile' right after its profile was named."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile[16:20] = b"CMYK"  # an sRGB profile that says it is CMYK: LittleCMS cannot use it
    image = Image.new("CMYK", (4, 4))
    image.info["icc_profile"] = bytes(profile)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rgb, mode = to_rgb(image)
    said = [str(w.message) for w in caught if issubclass(w.category, ImageConversionWarning)]
    assert rgb.mode == "RGB" and mode == "CMYK"
    assert len(said) == 2 and "cannot be used and is ignored" in said[0]
    assert "its CMYK colour profile could not be used" in said[1] and "has no CMYK" not in said[1]


def test_png_metadata_over_pillows_limit_is_not_called_corrupt(tmp_path):
    # 2 MB of XMP, a few KB zipped: Pillow's per-chunk limit, not a broken file
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>" + "a" * (2 << 20) + "</x:xmpmeta>", zip=True)
    path = tmp_path / "xmp.png"
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    with pytest.raises(ImageReadError) as exc:
        load_image(path)
    text = str(exc.value)
    assert "corrupt" not in text
    assert "a PNG metadata chunk (text, XMP or an ICC profile) decompresses to over Pillow's limit" in text
    assert text.endswith("metadata, not pixels, so a copy without it can be read")


def test_a_pnm_header_longer_than_its_bound_is_refused_unread(tmp_path):
    # Pillow reads a PNM header a byte at a time: a 50 MB comment took 49 s to open
    from taco.images import PNM_HEADER_BYTES

    body = b"\0" * 64
    long = b"P5\n#" + b"a" * PNM_HEADER_BYTES + b"\n8 8\n255\n" + body
    path = tmp_path / "long.pgm"
    path.write_bytes(long)
    for call in (lambda: load_image(path), lambda: open_image(path), lambda: load_image("-", data=long)):
        with pytest.raises(ImageReadError, match=f"its PNM header does not end within {PNM_HEADER_BYTES:,} bytes"):
            call()
    # a header with comments, ending well within the bound, before pixels longer than it: read
    fine = tmp_path / "fine.ppm"
    fine.write_bytes(b"P6 # made by hand\n# second comment\n 100\t100\n255\n" + bytes(range(256)) * 118)
    assert load_image(fine).size == (100, 100)
    plain = tmp_path / "plain.pbm"
    plain.write_bytes(b"P1\n# c\n4 2\n" + b"0 1 0 1 # a comment in the pixels\n" * 1000)
    assert load_image(plain).size == (4, 2)
    # Pillow's own P0/Py kinds, which its PPM opener reads too (PNM tried last left them out)
    cmyk = tmp_path / "cmyk.ppm"
    cmyk.write_bytes(b"P0CMYK\n64 64\n255\n" + Image.new("CMYK", (64, 64), (10, 20, 30, 0)).tobytes())
    assert open_image(cmyk).mode == "CMYK"
    assert load_image(cmyk).size == (64, 64)
