"""Session 40, F-FOLLOW (3). ``CaptionedImages(min_side=...)`` reads each photo's header at
construction; a read there that failed for the moment (EMFILE: too many open files) dropped the
photo as unreadable for good, where ``__getitem__`` reads it again (22c0c4a). It is read again
there too now, with the same helper and limits (TRANSIENT_TRIES, TRANSIENT_PAUSE_S)."""

from __future__ import annotations

import errno
import os
import warnings
from pathlib import Path

import pytest
from PIL import Image

import taco.data
from taco.data import TRANSIENT_TRIES, CaptionedImages, CaptionRecord, count_usable
from taco.images import ImageReadError

RECORDS = [CaptionRecord(f"{n}.png", (n,)) for n in ("a", "b")]


@pytest.fixture
def photos(transient_photos: Path) -> Path:
    """a.png and b.png, no pause between tries (tests/conftest.py's transient_photos)."""
    return transient_photos


def _failing(monkeypatch, name: str, code: int, times: int) -> dict[str, int]:
    """The header read (open_image) and the load (load_image) of file ``name`` fail ``times``
    times, as the real ones do out of descriptors: an OSError ``code``, and load_image's
    ImageReadError raised from it; -> the header reads by file."""
    real_open, real_load = taco.data.open_image, taco.data.load_image
    reads: dict[str, int] = {}
    left = [times]

    def error() -> OSError:
        return OSError(code, os.strerror(code))

    def open_image(path: Path, *args: object, **kwargs: object):  # noqa: ANN202
        reads[Path(path).name] = reads.get(Path(path).name, 0) + 1
        if Path(path).name == name and left[0] > 0:
            raise error()
        return real_open(path, *args, **kwargs)

    def load_image(path: Path, **kwargs: object) -> Image.Image:
        if Path(path).name == name and left[0] > 0:
            left[0] -= 1
            cause = error()
            raise ImageReadError(path, cause.strerror or "") from cause
        return real_load(path, **kwargs)

    monkeypatch.setattr(taco.data, "open_image", open_image)
    monkeypatch.setattr(taco.data, "load_image", load_image)
    return reads


def test_a_header_read_that_fails_once_with_emfile_is_read_again(photos, monkeypatch):
    reads = _failing(monkeypatch, "a.png", errno.EMFILE, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing dropped, nothing to warn about
        data = CaptionedImages(photos, RECORDS, min_side=16)
    # was: a.png dropped as unreadable (Too many open files), len 1
    assert len(data) == 2
    assert (data.unreadable, data.read_error) == (0, "")
    assert data.dropped.get("unreadable") == []
    assert reads["a.png"] == 2
    assert data[0].name == "a.png"


def test_count_usable_reads_it_again_too(photos, monkeypatch):
    _failing(monkeypatch, "a.png", errno.EMFILE, 1)
    assert count_usable(photos, ["a.png", "b.png"], min_side=16) == 2


def test_still_failing_after_the_tries_it_is_dropped_as_before(photos, monkeypatch):
    reads = _failing(monkeypatch, "a.png", errno.EMFILE, TRANSIENT_TRIES)
    with pytest.warns(taco.data.SkippedImageWarning):
        data = CaptionedImages(photos, RECORDS, min_side=16)
    assert reads["a.png"] == TRANSIENT_TRIES
    assert data.dropped["unreadable"] == ["a.png"]
    assert data.read_error == "Too many open files"


def test_an_unreadable_file_is_read_once(photos, monkeypatch):
    reads = _failing(monkeypatch, "a.png", errno.EACCES, 1)
    with pytest.warns(taco.data.SkippedImageWarning):
        data = CaptionedImages(photos, RECORDS, min_side=16)
    assert reads["a.png"] == 1
    assert data.dropped["unreadable"] == ["a.png"]
    assert data.read_error == "Permission denied"
