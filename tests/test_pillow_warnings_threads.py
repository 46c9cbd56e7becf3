"""Pillow's warnings about a file are given as an ImageFileWarning naming it in the thread that reads
it, and only there: ``ResidentImages.decode`` reads images on up to 16 threads. A
``catch_warnings(record=True)`` around one thread's Pillow took what another thread's Pillow
warned (``a.jpg: Pillow: ...`` for b.png's words), and its filter changes were the whole
process's, restored from what it saw at entry. The threads here meet at Events, so each
interleaving is the same on every run."""

from __future__ import annotations

import io
import struct
import threading
import warnings
from pathlib import Path

import pytest
from PIL import Image

from taco.images import ImageFileWarning, load_image, open_image

PALETTE_WORDS = "Palette images with Transparency expressed in bytes should be converted to RGBA images"


class Paused(io.BytesIO):
    """A PNG's bytes whose first read sets ``inside`` and waits for ``go_on``: its reader stops
    inside :func:`open_image` for as long as the test needs."""

    def __init__(self, inside: threading.Event, go_on: threading.Event) -> None:
        buf = io.BytesIO()
        Image.new("RGB", (4, 4)).save(buf, "PNG")
        super().__init__(buf.getvalue())
        self.inside, self.go_on, self.paused = inside, go_on, False

    def read(self, size: int | None = -1) -> bytes:
        if not self.paused:
            self.paused = True
            self.inside.set()
            assert self.go_on.wait(10)
        return super().read(size)


def _opened_in_a_thread(inside: threading.Event, go_on: threading.Event) -> threading.Thread:
    def open_it() -> None:
        open_image(Paused(inside, go_on)).close()

    thread = threading.Thread(target=open_it)
    thread.start()
    assert inside.wait(10)
    return thread


def _palette_warning() -> None:
    """What Pillow warns when an image it has read is converted: not about a file being read."""
    image = Image.new("P", (1, 1))
    image.info["transparency"] = b"\x00"
    image.convert("RGB")


def test_another_threads_pillow_warning_is_not_named_after_this_threads_file():
    inside, go_on = threading.Event(), threading.Event()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opening = _opened_in_a_thread(inside, go_on)  # now inside open_image's block
        try:
            _palette_warning()  # this thread, outside any block
        finally:
            go_on.set()
            opening.join(10)
    assert [(w.category, str(w.message)) for w in caught] == [(UserWarning, PALETTE_WORDS)]
    assert Path(caught[0].filename).parts[-2:] == ("PIL", "Image.py")  # Pillow's line, as before


def test_the_warnings_filter_is_left_alone_while_a_thread_opens_an_image():
    """A filter another thread adds and removes around an image being opened is gone after it
    (catch_warnings in taco restored the filters it had saved: the other thread's "ignore"
    came back for good), and the filters are not changed while an image is opened."""
    before = list(warnings.filters)
    inside, go_on = threading.Event(), threading.Event()
    opening = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            during = list(warnings.filters)
            opening = _opened_in_a_thread(inside, go_on)
            while_open = list(warnings.filters)  # no "always" for every thread while one is opened
        after_the_other = list(warnings.filters)
    finally:
        go_on.set()
        if opening is not None:
            opening.join(10)
    assert while_open == during
    assert after_the_other == before
    assert warnings.filters == before


def _tag_past_the_end(size: int = 8) -> bytes:
    """A one-page TIFF whose XResolution value lies past the end of the file: Pillow warns
    "Truncated File Read"."""
    b = io.BytesIO()
    Image.new("RGB", (size, size)).save(b, "TIFF", dpi=(72, 72))
    d = bytearray(b.getvalue())
    ifd = struct.unpack_from("<I", d, 4)[0]
    for k in range(struct.unpack_from("<H", d, ifd)[0]):
        at = ifd + 2 + 12 * k
        if struct.unpack_from("<H", d, at)[0] == 282:
            struct.pack_into("<I", d, at + 8, len(d) + 100)
    return bytes(d)


def test_threads_reading_flawed_files_each_name_their_own(tmp_path):
    paths = []
    for name in ("a.tif", "b.tif", "c.tif", "d.tif"):
        paths.append(tmp_path / name)
        paths[-1].write_bytes(_tag_past_the_end())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        threads = [threading.Thread(target=load_image, args=(p,)) for p in paths * 5]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert sorted(str(w.message) for w in caught) == sorted(
        f"{p}: Pillow: Truncated File Read" for p in paths * 5)
    assert {w.category for w in caught} == {ImageFileWarning}


def test_resident_decoding_names_each_flawed_file_once(tmp_path):
    """ResidentImages.decode reads a training set on several threads: each file's ImageFileWarning
    names it, once, and a good file beside them gets none."""
    from taco.captions_file import CaptionRecord
    from taco.data import CaptionedImages
    from taco.train.resident_data import ResidentImages

    names = [f"{k}.tif" for k in range(8)]
    for name in names:
        (tmp_path / name).write_bytes(_tag_past_the_end(32))
    Image.new("RGB", (32, 32)).save(tmp_path / "good.png")
    records = [CaptionRecord(name, ("a photo",)) for name in [*names, "good.png"]]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resident = ResidentImages.decode(CaptionedImages(tmp_path, records), 16, "cpu", workers=8)
    assert len(resident) == 9
    said = sorted(str(w.message) for w in caught if w.category is ImageFileWarning)
    assert said == sorted(f"{tmp_path / name}: Pillow: Truncated File Read" for name in names)


def test_each_file_is_named_under_the_default_filter(tmp_path):
    """Pillow's words are taken before the filters: under Python's "default" (once per place),
    a second file with the same flaw is named too."""
    for name in ("a.tif", "b.tif"):
        (tmp_path / name).write_bytes(_tag_past_the_end())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for name in ("a.tif", "b.tif"):
            load_image(tmp_path / name)
    assert [str(w.message) for w in caught] == [
        f"{tmp_path / name}: Pillow: Truncated File Read" for name in ("a.tif", "b.tif")]


def test_pillows_decompression_bomb_warning_is_dropped(tmp_path, monkeypatch):
    """Between MAX_IMAGE_PIXELS and twice that Pillow warns; taco's own cap decides, so nothing is
    said, even with warnings as errors."""
    path = tmp_path / "big.png"
    Image.new("L", (100, 100)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 6_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_image(path, max_pixels=None).size == (100, 100)
        open_image(path).close()
    with pytest.warns(Image.DecompressionBombWarning):  # Pillow's own, outside taco
        Image.open(path).close()
