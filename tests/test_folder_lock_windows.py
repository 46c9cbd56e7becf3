"""taco.locks.FolderLock where there is no fcntl (Windows): msvcrt.locking of one byte of the
lock file, simulated here by a fake msvcrt whose locks, as Windows' byte-range locks, belong
to one open file and refuse every other (EACCES)."""
from __future__ import annotations

import errno
import os
from types import SimpleNamespace

import pytest

import taco.locks
from taco.locks import LOCK_FILE, WINDOWS_LOCK_BYTE, FolderInUse, FolderLock, hold_folder


@pytest.fixture
def windows(monkeypatch):
    """No fcntl; a fake msvcrt. Yields the locks held: (device, inode, offset) -> fd."""
    held: dict[tuple[int, int, int], int] = {}

    def locking(fd: int, mode: int, nbytes: int) -> None:
        st = os.fstat(fd)
        key = (st.st_dev, st.st_ino, os.lseek(fd, 0, os.SEEK_CUR))
        assert nbytes == 1
        if mode == fake.LK_UNLCK:
            if held.get(key) != fd:
                raise OSError(errno.EACCES, "Permission denied")
            del held[key]
        elif held.setdefault(key, fd) != fd:
            raise OSError(errno.EACCES, "Permission denied")

    fake = SimpleNamespace(LK_UNLCK=0, LK_NBLCK=2, locking=locking)
    monkeypatch.setattr(taco.locks, "fcntl", None)
    monkeypatch.setattr(taco.locks, "msvcrt", fake)
    return held


def test_a_held_folder_refuses_another_lock_naming_the_holder(tmp_path, windows):
    folder = tmp_path / "runs" / "x"
    with FolderLock(folder, "taco train") as held:
        assert held.held and [offset for *_, offset in windows] == [WINDOWS_LOCK_BYTE]
        assert (folder / LOCK_FILE).read_bytes() == f"{os.getpid()} taco train\n".encode()
        with pytest.raises(FolderInUse) as refused:
            hold_folder(folder, "taco evaluate")
        assert str(refused.value) == f"{folder} is in use by another taco train (pid {os.getpid()})"
    assert windows == {} and list(tmp_path.iterdir()) == []  # let go; file and folders removed
    hold_folder(folder, "taco evaluate").release()  # and the folder is free


def test_another_locking_error_is_raised(tmp_path, windows):
    def broken(fd: int, mode: int, nbytes: int) -> None:
        raise OSError(errno.EBADF, "Bad file descriptor")

    taco.locks.msvcrt.locking = broken
    with pytest.raises(OSError) as exc:
        hold_folder(tmp_path / "x", "taco train")
    assert exc.value.errno == errno.EBADF
