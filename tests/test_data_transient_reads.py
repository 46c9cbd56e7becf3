"""A read that failed for the moment does not drop the photo from training: one EMFILE (too many
open files) in a DataLoader worker had put it among the process's unreadable files for good.
Such a read is tried again, then skipped for that draw only; an unreadable file is dropped as
before. ``CaptionedImages(min_side=...)`` reads each photo's header at construction the same way
(TRANSIENT_TRIES, TRANSIENT_PAUSE_S)."""

from __future__ import annotations

import errno
import os
import warnings
from pathlib import Path

import pytest
from PIL import Image

import taco.data
from taco.data import (
    TRANSIENT_ERRNOS,
    TRANSIENT_TRIES,
    CaptionedImages,
    CaptionRecord,
    SkippedImageWarning,
    count_usable,
)
from taco.images import ImageReadError


@pytest.fixture
def photos(transient_photos: Path) -> Path:
    """a.png and b.png, no pause between tries (tests/conftest.py's transient_photos)."""
    return transient_photos


def _dataset(root: Path) -> CaptionedImages:
    return CaptionedImages(root, [CaptionRecord(f"{n}.png", (n,)) for n in ("a", "b")])


def _os_error(code: int) -> OSError:
    return OSError(code, os.strerror(code))


@pytest.mark.parametrize("code", [errno.EMFILE, errno.ENFILE, errno.EAGAIN, errno.EINTR, errno.ENOMEM],
                         ids=errno.errorcode.get)
def test_a_read_that_fails_once_for_the_moment_is_read_again(photos, monkeypatch, failing_loads, code):
    reads = failing_loads({"a.png": [_os_error(code)]})
    ds = _dataset(photos)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "skipping": the second read worked
        assert ds[0].name == "a.png"
    assert reads == {"a.png": 2} and ds.skipped == 0


def test_a_photo_failing_for_the_moment_each_try_is_skipped_for_this_draw_only(photos, monkeypatch, failing_loads):
    """EMFILE at every try of one draw: the next photo stands in, and a later draw of the same
    index reads the photo again (it had been dropped for the rest of the process)."""
    reads = failing_loads({"a.png": [_os_error(errno.EMFILE)] * TRANSIENT_TRIES})
    ds = _dataset(photos)
    with pytest.warns(SkippedImageWarning, match=r"skipping image a\.png for now: Too many open "
                      r"files \(tried 3 times; it is read again when next drawn\)"):
        assert ds[0].name == "b.png"
    assert ds.skipped == 0 and reads["a.png"] == TRANSIENT_TRIES
    assert ds[0].name == "a.png"  # the photo is still drawn
    assert reads["a.png"] == TRANSIENT_TRIES + 1


def test_a_memory_error_is_of_the_moment_too(photos, monkeypatch, failing_loads):
    failing_loads({"a.png": [MemoryError()]}, otherwise="out of memory reading it")
    assert _dataset(photos)[0].name == "a.png"


@pytest.mark.parametrize("code", [errno.EACCES, errno.ENOENT, errno.EIO], ids=errno.errorcode.get)
def test_an_unreadable_file_is_still_dropped_at_once(photos, monkeypatch, failing_loads, code):
    """Not retried, and not read again in this process: as before."""
    reads = failing_loads({"a.png": [_os_error(code)] * 5})
    ds = _dataset(photos)
    with pytest.warns(SkippedImageWarning, match=rf"skipping unreadable image a\.png: {os.strerror(code)}"):
        assert ds[0].name == "b.png"
    assert ds[0].name == "b.png" and reads["a.png"] == 1 and ds.skipped == 1


def test_load_image_s_own_error_for_too_many_open_files_is_read_again(photos, monkeypatch):
    """Pillow's open failing with EMFILE once, as in a worker short of descriptors: the
    ImageReadError that taco.images.load_image makes of it is known as of the moment."""
    real_open = Image.open
    calls: list[str] = []

    def flaky_open(source: object, *args: object, **kwargs: object) -> Image.Image:
        calls.append(str(source))
        if len(calls) == 1:
            raise _os_error(errno.EMFILE)
        return real_open(source, *args, **kwargs)

    monkeypatch.setattr(Image, "open", flaky_open)
    ds = _dataset(photos)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ds[0].name == "a.png"
    assert ds.skipped == 0 and len(calls) >= 2


RECORDS = [CaptionRecord(f"{n}.png", (n,)) for n in ("a", "b")]


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


def test_enobufs_is_a_read_of_the_moment_and_read_again(photos, monkeypatch, failing_loads):
    """ENOBUFS (buffers short) is one of TRANSIENT_ERRNOS: the photo is read again, not dropped."""
    assert errno.ENOBUFS in TRANSIENT_ERRNOS
    reads = failing_loads({"a.png": [OSError(errno.ENOBUFS, os.strerror(errno.ENOBUFS))]})
    ds = CaptionedImages(photos, [CaptionRecord(f"{n}.png", (n,)) for n in ("a", "b")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ds[0].name == "a.png"
    assert reads == {"a.png": 2} and ds.skipped == 0


def _emfile() -> OSError:
    return OSError(errno.EMFILE, os.strerror(errno.EMFILE))


def test_an_errno_of_the_moment_in_the_context_of_the_cause_is_of_the_moment(photos, monkeypatch):
    """The read error raised from a decoder's error that was itself raised while handling an
    EMFILE (implicit chaining, ``__context__``): still a read of the moment, read again."""
    real = taco.data.load_image
    reads: list[str] = []

    def load(path: Path, **kwargs: object) -> Image.Image:
        reads.append(Path(path).name)
        if len(reads) == 1:
            try:
                try:
                    raise _emfile()
                except OSError:
                    raise ValueError("decoder failed")  # noqa: B904 (its context, as a decoder has it)
            except ValueError as e:
                raise ImageReadError(path, "file is truncated or corrupt") from e
        return real(path, **kwargs)

    monkeypatch.setattr(taco.data, "load_image", load)
    ds = CaptionedImages(photos, [CaptionRecord(f"{n}.png", (n,)) for n in ("a", "b")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ds[0].name == "a.png"
    assert reads == ["a.png", "a.png"] and ds.skipped == 0


def test_the_pause_between_tries_grows(photos, monkeypatch, failing_loads):
    """TRANSIENT_PAUSE_S after the first failure, twice it after the second; none after the last."""
    monkeypatch.setattr(taco.data, "TRANSIENT_PAUSE_S", 0.001)
    pauses: list[float] = []
    monkeypatch.setattr(taco.data.time, "sleep", pauses.append)
    failing_loads({"a.png": [_emfile() for _ in range(taco.data.TRANSIENT_TRIES)]})
    ds = CaptionedImages(photos, [CaptionRecord(f"{n}.png", (n,)) for n in ("a", "b")])
    with pytest.warns(taco.data.SkippedImageWarning, match="for now"):
        assert ds[0].name == "b.png"
    assert pauses == pytest.approx([0.001 * k for k in range(1, taco.data.TRANSIENT_TRIES)])


def test_a_transient_failure_counts_toward_max_retries(photos, monkeypatch, failing_loads):
    """A photo skipped for the moment is one of the ``max_retries`` failures of the call: with
    max_retries=1 the draw stops there (UnreadableImagesError), as for an unreadable one."""
    failing_loads({"a.png": [_emfile() for _ in range(taco.data.TRANSIENT_TRIES)]})
    ds = CaptionedImages(photos, [CaptionRecord(f"{n}.png", (n,)) for n in ("a", "b")], max_retries=1)
    with pytest.warns(taco.data.SkippedImageWarning, match="for now"), \
            pytest.raises(taco.data.UnreadableImagesError, match="1 unreadable in a row"):
        ds[0]
