"""On Windows, FAT32 and exFAT (and some network shares) refuse ``os.link`` with winerror 1
(ERROR_INVALID_FUNCTION) or 50 (ERROR_NOT_SUPPORTED), errno EINVAL: a write without --force
still happens there, checked first, as on Linux's EPERM (simulated by a fake ``os.link``)."""
from __future__ import annotations

import errno
import os

import pytest

from taco.atomic import write_bytes_atomic


def _windows_link_error(winerror: int | None):
    def link(src, dst, *args, **kwargs):
        exc = OSError(errno.EINVAL, "Incorrect function", str(src), None, str(dst))
        if winerror is not None:
            exc.winerror = winerror  # type: ignore[attr-defined]  # as Windows' OSError carries it
        raise exc
    return link


@pytest.mark.parametrize("winerror", [1, 50])
def test_no_hard_links_on_windows_still_writes_checked_first(tmp_path, monkeypatch, winerror):
    monkeypatch.setattr(os, "link", _windows_link_error(winerror))
    path = tmp_path / "a.taco"
    write_bytes_atomic(path, b"first", replace=False)
    assert path.read_bytes() == b"first"
    with pytest.raises(FileExistsError):
        write_bytes_atomic(path, b"second", replace=False)
    assert path.read_bytes() == b"first" and sorted(tmp_path.iterdir()) == [path]


def test_einval_without_winerror_still_fails_the_write(tmp_path, monkeypatch):
    """EINVAL on a POSIX system is not "no hard links here": the write fails, naming the target."""
    monkeypatch.setattr(os, "link", _windows_link_error(None))
    with pytest.raises(OSError) as exc:
        write_bytes_atomic(tmp_path / "a.taco", b"x", replace=False)
    assert exc.value.errno == errno.EINVAL and exc.value.filename == str(tmp_path / "a.taco")
    assert list(tmp_path.iterdir()) == []
