"""A multi-page TIFF whose later pages cannot be read, or that has a great many, and Pillow's own
warnings about a file: the first page is coded with one warning naming the file, and a batch
goes on (a bad page 2 used to raise TypeError "Missing dimensions" out of ``load_image``, taking
``taco compress DIR`` down with a traceback; Pillow counted 200,000 pages in minutes)."""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import pytest
from PIL import Image

from taco.captions_file import CaptionRecord
from taco.data import CaptionedImages, count_usable
from taco.errors import TacoWarning
from taco.images import (
    FRAMES_COUNTED,
    ImageConversionWarning,
    ImageFileWarning,
    ImageReadError,
    load_image,
    open_image,
)
from taco.samples import SAMPLES_DIR

GOOD = (40, 30)


def _two_pages() -> tuple[bytearray, int, int]:
    """A two-page little-endian TIFF, where its first page's next-page pointer is, and where its
    second page's directory is."""
    first = Image.new("RGB", GOOD, (200, 30, 40))
    b = io.BytesIO()
    first.save(b, "TIFF", save_all=True, append_images=[Image.new("RGB", GOOD, (0, 0, 255))])
    d = bytearray(b.getvalue())
    ifd0 = struct.unpack_from("<I", d, 4)[0]
    next_at = ifd0 + 2 + 12 * struct.unpack_from("<H", d, ifd0)[0]
    return d, next_at, struct.unpack_from("<I", d, next_at)[0]


def _entry(d: bytearray, ifd: int, tag: int) -> int:
    """Where the entry of ``tag`` is in the directory at ``ifd``."""
    for i in range(struct.unpack_from("<H", d, ifd)[0]):
        at = ifd + 2 + 12 * i
        if struct.unpack_from("<H", d, at)[0] == tag:
            return at
    raise AssertionError(f"no tag {tag}")


def _page_two_past_the_end() -> bytes:
    d, next_at, _ = _two_pages()
    struct.pack_into("<I", d, next_at, len(d) + 1000)
    return bytes(d)


def _page_two_bad_tag_type() -> bytes:
    d, _, ifd1 = _two_pages()
    struct.pack_into("<H", d, ifd1 + 2 + 2, 99)  # the first entry's type: no such type
    return bytes(d)


def _page_two_huge_strip_count() -> bytes:
    d, _, ifd1 = _two_pages()
    struct.pack_into("<HHII", d, _entry(d, ifd1, 273), 273, 4, 0x3FFFFFFF, 8)  # SyntaxError in Pillow
    return bytes(d)



BAD_PAGE_TWO = {
    "pointer-past-end": _page_two_past_the_end,
    "bad-tag-type": _page_two_bad_tag_type,
    "huge-strip-count": _page_two_huge_strip_count,
}


def _pages(n: int) -> bytes:
    """A TIFF of ``n`` 1x1 grey pages, each directory holding all its values inline (114 bytes)."""
    entries = [(256, 3, 1, 1), (257, 3, 1, 1), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8), (277, 3, 1, 1), (278, 3, 1, 1), (279, 4, 1, 1)]
    size = 2 + 12 * len(entries) + 4
    d = bytearray(b"II*\0" + struct.pack("<I", 12) + b"\x07\0\0\0")  # the pixel at byte 8
    for k in range(n):
        nxt = 12 + (k + 1) * size if k < n - 1 else 0
        d += struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries)
        d += struct.pack("<I", nxt)
    return bytes(d)


def _load(path: Path, **kwargs) -> tuple[Image.Image, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = load_image(path, **kwargs)
    return image, caught


@pytest.mark.parametrize("case", sorted(BAD_PAGE_TWO))
def test_a_bad_second_page_gives_the_first_with_one_warning(tmp_path, case):
    path = tmp_path / "scan.tif"
    path.write_bytes(BAD_PAGE_TWO[case]())
    image, caught = _load(path)
    assert image.size == GOOD
    assert image.convert("RGB").getpixel((5, 5)) == (200, 30, 40)  # the first page's pixels
    frames = [str(w.message) for w in caught if w.category is ImageConversionWarning]
    assert len(frames) == 1
    assert frames[0].startswith(f"{path}: it has more than one frame, and frame 2 cannot be read (")
    assert frames[0].endswith("; using the first one")
    assert all(issubclass(w.category, TacoWarning) for w in caught), [str(w.message) for w in caught]


def test_a_bad_third_page_says_which(tmp_path):
    """The reviewer's chain of 200,000 empty pages after two good ones: page 3 has no size."""
    d, _, ifd1 = _two_pages()
    last = ifd1 + 2 + 12 * struct.unpack_from("<H", d, ifd1)[0]
    struct.pack_into("<I", d, last, len(d))
    d += struct.pack("<HI", 0, len(d) + 6) + struct.pack("<HI", 0, 0)  # two empty directories
    path = tmp_path / "scan.tif"
    path.write_bytes(bytes(d))
    _, caught = _load(path)
    assert [str(w.message) for w in caught] == [
        f"{path}: it has at least 3 frames, and frame 3 cannot be read (Missing dimensions); using "
        "the first one"]


def test_piped_bytes_with_a_bad_second_page_read_the_same(tmp_path):
    image, caught = _load(Path("<stdin>"), data=_page_two_past_the_end())
    assert image.size == GOOD
    assert any("frame 2 cannot be read" in str(w.message) for w in caught)


def test_a_good_two_page_tiff_is_counted_exactly(tmp_path):
    path = tmp_path / "two.tif"
    path.write_bytes(bytes(_two_pages()[0]))
    _, caught = _load(path)
    assert [str(w.message) for w in caught] == [f"{path}: it has 2 frames; using the first one"]


def test_pages_are_counted_up_to_a_bound(tmp_path):
    """Pillow's own count visits every page and compares it with all before it: 200,000 pages
    took 269 s. Past FRAMES_COUNTED the count stops."""
    path = tmp_path / "many.tif"
    path.write_bytes(_pages(FRAMES_COUNTED + 50))
    image, caught = _load(path)
    assert image.size == (1, 1)
    assert [str(w.message) for w in caught] == [
        f"{path}: it has more than {FRAMES_COUNTED} frames; using the first one"]
    path.write_bytes(_pages(FRAMES_COUNTED))
    assert [str(w.message) for w in _load(path)[1]] == [
        f"{path}: it has {FRAMES_COUNTED} frames; using the first one"]


def test_a_bad_first_page_is_still_an_image_read_error(tmp_path):
    d, _, _ = _two_pages()
    ifd0 = struct.unpack_from("<I", d, 4)[0]
    struct.pack_into("<HHII", d, _entry(d, ifd0, 273), 273, 4, 0x3FFFFFFF, 8)
    path = tmp_path / "bad.tif"
    path.write_bytes(bytes(d))
    with pytest.raises(ImageReadError, match="bad.tif"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load_image(path)


def test_a_dataset_reads_a_tiff_with_a_bad_page(tmp_path):
    """CaptionedImages (and _shorter_side, for min_side) catch ImageReadError only: the
    TypeError took a training or evaluation run down."""
    (tmp_path / "scan.tif").write_bytes(_page_two_huge_strip_count())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert count_usable(tmp_path, ["scan.tif"], min_side=16) == 1
        dataset = CaptionedImages(tmp_path, [CaptionRecord("scan.tif", ("a scan",))], min_side=16)
        image, caption, name = dataset[0]
    assert tuple(image.shape) == (3, GOOD[1], GOOD[0]) and name == "scan.tif"
    assert dataset.skipped == 0


def _tag_past_the_end() -> bytes:
    """A one-page TIFF whose XResolution value lies past the end of the file."""
    b = io.BytesIO()
    Image.new("RGB", GOOD, (10, 200, 30)).save(b, "TIFF", dpi=(72, 72))
    d = bytearray(b.getvalue())
    at = _entry(d, struct.unpack_from("<I", d, 4)[0], 282)
    struct.pack_into("<I", d, at + 8, len(d) + 100)
    return bytes(d)


def test_pillows_warnings_about_a_file_name_it(tmp_path):
    """Pillow's "Truncated File Read" (and "Corrupt EXIF data", "Tag data larger than file")
    reached a CLI user as `warning: UserWarning: ...`, naming no file."""
    path = tmp_path / "tag.tif"
    path.write_bytes(_tag_past_the_end())
    image, caught = _load(path)
    assert image.size == GOOD
    assert caught, "Pillow warns about this file: the test's file is not what it should be"
    assert {w.category for w in caught} == {ImageFileWarning}
    assert [str(w.message) for w in caught] == [f"{path}: Pillow: Truncated File Read"]  # once, not per read
    assert issubclass(ImageFileWarning, ImageConversionWarning)  # taco compress shows it by its image
    with warnings.catch_warnings(record=True) as opened:
        warnings.simplefilter("always")
        open_image(path).close()
    assert opened and {w.category for w in opened} == {ImageFileWarning}


def test_the_warning_points_at_the_callers_line(tmp_path):
    path = tmp_path / "tag.tif"
    path.write_bytes(_tag_past_the_end())
    _, caught = _load(path)
    assert {Path(w.filename).name for w in caught} == {"test_hostile_tiff_pages.py"}


def test_other_warnings_are_given_as_they_were(tmp_path):
    """Only Pillow's warnings become ImageFileWarning; a file without any gives none."""
    path = tmp_path / "ok.tif"
    Image.new("RGB", GOOD).save(path)
    assert _load(path)[1] == []


def test_compress_batch_goes_on_past_a_tiff_with_a_bad_page(tmp_path, capsys):
    from taco.cli import main

    src = tmp_path / "in"
    src.mkdir()
    photo = Image.open(SAMPLES_DIR / "skimage-chelsea.png").convert("RGB").resize((64, 48))
    photo.save(src / "a.png")
    (src / "b.tif").write_bytes(_page_two_past_the_end())
    photo.save(src / "c.png")
    out = tmp_path / "out"
    assert main(["compress", str(src), "--caption", "", "-m", "elic-tiny", "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.taco", "b.taco", "c.taco"]
    err = capsys.readouterr().err
    assert (f"taco compress: warning: {src / 'b.tif'}: it has more than one frame, and frame 2 "
            "cannot be read (") in err
    assert "UserWarning" not in err and "Traceback" not in err
