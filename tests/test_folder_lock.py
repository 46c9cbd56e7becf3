"""taco.locks.FolderLock: one process at a time in a folder; a refusal names the holder; a
lock dies with its holder; a released or refused lock leaves no file or folder behind."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import taco.errors
import taco.locks
from taco.locks import LOCK_FILE, FolderInUse, FolderLock, hold_folder

pytestmark = pytest.mark.skipif(taco.locks.fcntl is None, reason="flock is POSIX")


def test_a_held_folder_refuses_another_lock_naming_the_holder(tmp_path):
    with FolderLock(tmp_path, "taco train") as held:
        assert held.held
        assert (tmp_path / LOCK_FILE).read_text() == f"{os.getpid()} taco train\n"
        # another open file description: refused, in this process too
        with pytest.raises(FolderInUse) as refused:
            hold_folder(tmp_path, "taco evaluate")
        assert str(refused.value) == f"{tmp_path} is in use by another taco train (pid {os.getpid()})"
    assert not (tmp_path / LOCK_FILE).exists()  # released: the file is gone
    hold_folder(tmp_path, "taco evaluate").release()  # and the folder free


def test_the_folders_a_lock_made_go_with_it_when_empty(tmp_path):
    deep = tmp_path / "a" / "b" / "c"
    hold_folder(deep, "taco train").release()
    assert list(tmp_path.iterdir()) == []  # a run refused or failed at its start leaves nothing

    kept = hold_folder(deep, "taco train")
    (deep / "log.jsonl").write_text("{}\n")  # the work wrote there: the folders stay
    kept.release()
    assert sorted(p.name for p in deep.iterdir()) == ["log.jsonl"]

    with pytest.raises(FolderInUse), hold_folder(tmp_path / "x", "taco train"):
        hold_folder(tmp_path / "x", "taco train")  # refused: removes nothing of the holder's
    assert not (tmp_path / "x").exists()


def test_a_lock_file_left_behind_locks_nothing(tmp_path):
    (tmp_path / LOCK_FILE).write_text("999999999 taco train\n")  # a killed run's
    with FolderLock(tmp_path, "taco train"):
        assert (tmp_path / LOCK_FILE).read_text() == f"{os.getpid()} taco train\n"


def test_the_lock_dies_with_its_holder(tmp_path):
    """A holder killed (SIGKILL: no clean-up) lets the folder go: the kernel drops the lock."""
    code = ("import sys; from taco.locks import hold_folder; "
            "lock = hold_folder(sys.argv[1], 'taco train'); print('held', flush=True); "
            "sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(FolderInUse, match=rf"another taco train \(pid {holder.pid}\)$"):
            hold_folder(tmp_path, "taco train")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=30)
    with FolderLock(tmp_path, "taco train") as lock:
        assert lock.held


def test_a_lock_file_removed_while_being_opened_is_opened_again(tmp_path, monkeypatch):
    """The holder removes the file as it releases: one who opened the old file just then must
    not count the old file's lock (a third process would take the new one)."""
    holder = hold_folder(tmp_path, "taco train")
    opened = taco.locks._open

    def released_meanwhile(path: Path) -> int | None:
        fd = opened(path)
        if holder.held:
            holder.release()  # unlinks the file this fd is of
        return fd

    monkeypatch.setattr(taco.locks, "_open", released_meanwhile)
    with FolderLock(tmp_path, "taco evaluate") as second:
        assert second.held and (tmp_path / LOCK_FILE).exists()
        with pytest.raises(FolderInUse, match="another taco evaluate"):
            hold_folder(tmp_path, "taco train")


def test_without_fcntl_nothing_is_locked_or_made(tmp_path, monkeypatch):
    monkeypatch.setattr(taco.locks, "fcntl", None)  # Windows
    with FolderLock(tmp_path / "run", "taco train") as lock:
        assert not lock.held
    assert not (tmp_path / "run").exists()


def test_a_folder_this_process_may_not_write_in_is_not_locked_even_for_root(tmp_path, monkeypatch):
    """The lock file's creation fails with EACCES, as a non-root user's does in a folder of
    mode 555 (root writes anyway: the test below skips for root, as CI runs)."""
    lock_file, opened = str(tmp_path / LOCK_FILE), os.open

    def refused(path, flags, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if os.fspath(path) == lock_file and flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), lock_file)
        return opened(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refused)
    with FolderLock(tmp_path, "taco train") as lock:
        assert not lock.held
    assert not (tmp_path / LOCK_FILE).exists()


#: ``python -c LOCK FOLDER``: whether a FolderLock on FOLDER is held, for a process of its own.
LOCK = """
import sys
from pathlib import Path
from taco.locks import FolderLock
with FolderLock(Path(sys.argv[1]), "taco train") as lock:
    print(lock.held)
"""


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX modes")
def test_a_folder_this_process_cannot_write_is_not_locked(tmp_path, request):
    tmp_path.chmod(0o555)
    try:
        if os.geteuid() == 0:  # root writes anyway: the bypass dropped (skips without capsh)
            done = request.getfixturevalue("without_bypass")(["-c", LOCK, str(tmp_path)])
            assert (done.returncode, done.stdout) == (0, "False\n"), done.stderr
            assert not (tmp_path / LOCK_FILE).exists()
            return
        with FolderLock(tmp_path, "taco train") as lock:
            assert not lock.held
    finally:
        tmp_path.chmod(0o755)


def test_a_refusal_shows_a_folder_name_and_a_holder_with_control_characters_escaped(tmp_path):
    """A folder whose name holds a line feed or a terminal escape (``ESC[2J`` clears the screen)
    was named raw in "FOLDER is in use by another ...", and so was what a lock file's holder line
    says (a planted one can say anything): each is shown escaped now, the refusal one line."""
    folder = tmp_path / "runs\nx\x1b[2J"
    with FolderLock(folder, "taco train\x1b]0;owned\x07"):
        with pytest.raises(FolderInUse) as refused:
            hold_folder(folder, "taco evaluate")
    shown = f"{tmp_path}/runs\\nx\\x1b[2J"
    assert str(refused.value) == (f"{shown} is in use by another taco train\\x1b]0;owned\\x07 "
                                  f"(pid {os.getpid()})")


@pytest.mark.parametrize("code", [errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS])
def test_a_file_system_without_locks_is_used_unlocked_with_a_warning(tmp_path, monkeypatch, code):
    """NFS without lockd (ENOLCK), a FUSE file system (EOPNOTSUPP, ENOSYS): taco train and taco
    evaluate stopped with a bare "no locks available", naming nothing. They go on without the
    lock, warned once naming the folder; the lock file and the folders made go as before."""
    import fcntl

    def flock(fd, op):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(fcntl, "flock", flock)
    folder = tmp_path / "runs" / "x"
    with pytest.warns(taco.errors.TacoWarning) as warned:
        lock = hold_folder(folder, "taco train")
    assert [str(w.message) for w in warned] == [
        f"{folder}: this file system has no locks: two taco processes must not use it at once"]
    assert lock.held and (folder / LOCK_FILE).read_text() == f"{os.getpid()} taco train\n"
    lock.release()
    assert not (tmp_path / "runs").exists()


def test_another_flock_error_is_still_raised(tmp_path, monkeypatch):
    import fcntl

    def flock(fd, op):
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    monkeypatch.setattr(fcntl, "flock", flock)
    with pytest.raises(OSError, match="Bad file descriptor"):
        hold_folder(tmp_path / "x", "taco train")
