"""taco.atomic: whole-file writes that leave the old file or the new one, never half of either,
and no temporary file behind when they fail; the writers that use it (text files, CLIP vocab);
without replace, a file another writer published meanwhile is left (FileExistsError)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

import taco.atomic
from taco.atomic import stale_temporaries, write_all_atomic, write_bytes_atomic, write_text_atomic


def test_write_text_atomic_writes_exactly_the_text(tmp_path):
    path = tmp_path / "sub" / "a.txt"
    assert write_text_atomic(path, "é\r\nb\n") == path
    assert path.read_bytes() == "é\r\nb\n".encode()  # encoded as is, no newline translation
    write_text_atomic(path, "new")
    assert path.read_text(encoding="utf-8") == "new"
    assert stale_temporaries(path) == []


def test_write_text_atomic_that_fails_keeps_the_old_file_and_no_temporary(tmp_path, fail_writes):
    path = tmp_path / "a.txt"
    path.write_text("old", encoding="utf-8")
    fail_writes(errno.ENOSPC)  # every write: half its bytes, then a full disk
    with pytest.raises(OSError) as exc:
        write_text_atomic(path, "new" * 1000)
    assert exc.value.errno == errno.ENOSPC
    assert path.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_clip_vocab_files_are_written_atomically(tmp_path, fail_writes):
    from taco.text.clip_vocab import _write_files

    _write_files(tmp_path, {"vocab.txt": "a b\n"})
    assert (tmp_path / "vocab.txt").read_text(encoding="utf-8") == "a b\n"
    fail_writes(errno.ENOSPC)  # every write: half its bytes, then a full disk
    with pytest.raises(OSError):  # the caller falls back to a private temporary folder
        _write_files(tmp_path, {"vocab.txt": "c d\n"})
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == ["vocab.txt"]
    assert (tmp_path / "vocab.txt").read_text(encoding="utf-8") == "a b\n"


def test_two_threads_writing_one_file_use_two_temporaries(tmp_path):
    """The temporary was named by process only: two threads of a service writing one target
    wrote into the same temporary."""
    import threading

    from taco.atomic import stale_temporaries, temporary_path

    target = tmp_path / "vocab.json"
    names: list = []
    worker = threading.Thread(target=lambda: names.append(temporary_path(target)))
    worker.start()
    worker.join()
    assert names[0] != temporary_path(target)
    for name in (names[0], temporary_path(target)):  # both are what a cleanup looks for
        name.write_bytes(b"x")
    assert len(stale_temporaries(target)) == 2


def test_a_target_of_a_long_legal_name_gets_a_legal_temporary(tmp_path):
    """The temporary was ``.NAME.tmp-PID-THREAD``: ~34 more characters, so a legal 254-character
    name failed with ENAMETOOLONG (a batch of photos stopped there)."""
    from taco.atomic import NAME_MAX, temporary_path, write_bytes_atomic

    target = tmp_path / ("x" * 249 + ".taco")
    assert len(target.name) == 254
    assert len(temporary_path(target).name) <= NAME_MAX
    write_bytes_atomic(target, b"data")
    assert target.read_bytes() == b"data" and sorted(tmp_path.iterdir()) == [target]
    # a stale temporary of it is still found by its (shortened) name
    stale = temporary_path(target)
    stale.write_bytes(b"half")
    assert stale_temporaries(target) == [stale]
    # another long name that begins alike: its temporaries are not this target's
    other = tmp_path / ("x" * 249 + ".tac0")
    temporary_path(other).write_bytes(b"another writer's")
    assert stale_temporaries(target) == [stale] and len(stale_temporaries(other)) == 1
    short = tmp_path / "a.taco"  # a name that fits keeps the plain form
    assert temporary_path(short).name.startswith(".a.taco.tmp-")
    # nor is the temporary of a target named like a temporary of this one
    temporary_path(tmp_path / "a.taco.tmp-1").write_bytes(b"x")
    assert stale_temporaries(short) == []
    old = tmp_path / ".a.taco.tmp-123-456"  # what taco wrote before: still cleaned up
    old.write_bytes(b"x")
    assert stale_temporaries(short) == [old]


def test_a_failed_write_names_the_target_not_its_temporary(tmp_path, monkeypatch, fail_writes):
    path = tmp_path / "a.txt"
    fail_writes(errno.ENOSPC)  # every write: half its bytes, then a full disk
    with pytest.raises(OSError) as exc:
        write_text_atomic(path, "new")
    assert (exc.value.errno, exc.value.filename) == (errno.ENOSPC, str(path))
    monkeypatch.undo()
    (tmp_path / "folder").mkdir()
    with pytest.raises(IsADirectoryError) as exc:
        write_text_atomic(tmp_path / "folder", "new")
    assert exc.value.filename == str(tmp_path / "folder") and exc.value.filename2 is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


def test_a_written_file_has_the_umasks_permissions(tmp_path):
    """Not mkstemp's 0600: an output others could read before is still readable by them."""
    import os

    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644


# --------------------------------------------------------------------------- replace=False


def test_a_write_that_must_not_replace_leaves_an_output_that_appeared(tmp_path):
    """Without --force an output written by another process after the up-front check was
    replaced (os.replace): now the write fails naming it, and the other's file stays whole."""
    from taco.atomic import write_bytes_atomic

    path = tmp_path / "a.taco"
    assert write_bytes_atomic(path, b"first", replace=False) == path
    with pytest.raises(FileExistsError) as exc:
        write_bytes_atomic(path, b"second", replace=False)
    assert (exc.value.errno, exc.value.filename) == (errno.EEXIST, str(path))
    assert path.read_bytes() == b"first" and sorted(tmp_path.iterdir()) == [path]
    write_bytes_atomic(path, b"forced")  # replace=True, the default, replaces it
    assert path.read_bytes() == b"forced" and sorted(tmp_path.iterdir()) == [path]
    link = tmp_path / "link.taco"  # a link to nothing is something there too
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileExistsError):
        write_bytes_atomic(link, b"x", replace=False)
    assert not (tmp_path / "nowhere").exists()
    (tmp_path / "folder").mkdir()  # a folder in the way is said as os.replace says it
    with pytest.raises(IsADirectoryError) as isdir:
        write_bytes_atomic(tmp_path / "folder", b"x", replace=False)
    assert isdir.value.filename == str(tmp_path / "folder")


def _link_error(code: int, winerror: int | None = None):
    """A stand-in for os.link failing with ``code`` (and Windows' ``winerror``), naming both files
    as os.link does."""
    def link(src, dst, *args, **kwargs):
        exc = OSError(code, os.strerror(code), str(src), None, str(dst))
        if winerror is not None:
            exc.winerror = winerror  # type: ignore[attr-defined]  # as Windows' OSError carries it
        raise exc
    return link


@pytest.mark.parametrize(("code", "winerror"), [(errno.EPERM, None), (errno.EOPNOTSUPP, None),
                                                 (errno.EINVAL, 1), (errno.EINVAL, 50)])
def test_without_hard_links_it_checks_then_renames(tmp_path, monkeypatch, code, winerror):
    """FAT and exFAT refuse os.link (EPERM on Linux; on Windows EINVAL with winerror 1,
    ERROR_INVALID_FUNCTION, or 50, ERROR_NOT_SUPPORTED): the write still happens, checked first."""
    monkeypatch.setattr(os, "link", _link_error(code, winerror))
    path = tmp_path / "a.taco"
    write_bytes_atomic(path, b"first", replace=False)
    assert path.read_bytes() == b"first"
    with pytest.raises(FileExistsError):
        write_bytes_atomic(path, b"second", replace=False)
    assert path.read_bytes() == b"first" and sorted(tmp_path.iterdir()) == [path]


def test_einval_without_winerror_still_fails_the_write(tmp_path, monkeypatch):
    """EINVAL on a POSIX system is not "no hard links here": the write fails, naming the target."""
    monkeypatch.setattr(os, "link", _link_error(errno.EINVAL))
    with pytest.raises(OSError) as exc:
        write_bytes_atomic(tmp_path / "a.taco", b"x", replace=False)
    assert exc.value.errno == errno.EINVAL and exc.value.filename == str(tmp_path / "a.taco")
    assert list(tmp_path.iterdir()) == []


def test_another_link_error_fails_the_write_naming_the_target(tmp_path, monkeypatch):

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(src), str(dst))

    monkeypatch.setattr(os, "link", full)
    with pytest.raises(OSError) as exc:
        write_bytes_atomic(tmp_path / "a.taco", b"x", replace=False)
    assert (exc.value.errno, exc.value.filename) == (errno.ENOSPC, str(tmp_path / "a.taco"))
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- stale temporaries


def test_only_the_temporaries_of_killed_writers_are_removed(tmp_path, hang_in_write):
    """A SIGKILLed compress left .NAME.tmp-XXXXXXXX behind for good (no rerun removed it); now
    remove_stale_temporaries removes it, and leaves the temporary of a writer still at work."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from taco.atomic import remove_stale_temporaries, stale_temporaries

    target, marker = tmp_path / "a.taco", tmp_path / "inside-the-write"
    child = hang_in_write(marker) + "taco.atomic.write_bytes_atomic(sys.argv[1], b'x' * 1000)\n"
    writer = subprocess.Popen([sys.executable, "-c", "import sys, taco.atomic\n" + child, str(target)])
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and writer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists()  # the writer is inside its write
        (live,) = stale_temporaries(target)
        assert remove_stale_temporaries([target]) == [] and live.exists()  # its writer is alive
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert remove_stale_temporaries([target]) == [live]
    assert not live.exists() and not target.exists()
    os.mkfifo(tmp_path / ".b.taco.tmp-0123abcd")  # not a regular file: not one taco wrote
    assert remove_stale_temporaries([tmp_path / "b.taco"]) == []


def test_a_temporary_whose_writer_cannot_be_asked_is_removed_by_age(tmp_path, monkeypatch):
    """A name taco wrote before it locked its temporaries (.NAME.tmp-PID-THREAD), and any where
    the file system has no locks: removed once unchanged for STALE_AGE_S, not before."""
    import os
    import time

    from taco.atomic import STALE_AGE_S, remove_stale_temporaries, temporary_path

    target = tmp_path / "a.taco"
    old_style = tmp_path / ".a.taco.tmp-123-456"
    old_style.write_bytes(b"x")
    assert remove_stale_temporaries([target]) == [] and old_style.exists()
    past = time.time() - STALE_AGE_S - 5
    os.utime(old_style, (past, past))
    assert remove_stale_temporaries([target]) == [old_style] and not old_style.exists()

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(taco.atomic.fcntl, "flock", no_locks)
    fresh = temporary_path(target)
    fresh.write_bytes(b"x")
    assert remove_stale_temporaries([target]) == [] and fresh.exists()
    os.utime(fresh, (past, past))
    assert remove_stale_temporaries([target]) == [fresh]
    write = taco.atomic.write_bytes_atomic(target, b"written without a lock")
    assert write.read_bytes() == b"written without a lock"


def test_a_cleanup_removes_only_the_temporaries_of_the_outputs_named(tmp_path):
    from taco.atomic import remove_stale_temporaries, temporary_path

    a, b = tmp_path / "a.taco", tmp_path / "sub" / "b.taco"
    b.parent.mkdir()
    stale = [temporary_path(a), temporary_path(b)]
    others = [temporary_path(tmp_path / "c.taco"), tmp_path / ".a.taco.tmp-notours",
              tmp_path / "a.taco.tmp-0123abcd", tmp_path / ".a.taco.tmp-0123abcd.tmp-x"]
    for p in stale + others:
        p.write_bytes(b"x")
    assert sorted(remove_stale_temporaries([a, b, tmp_path / "missing" / "d.taco"])) == sorted(stale)
    assert all(p.exists() for p in others) and not any(p.exists() for p in stale)


def test_a_named_pipe_or_device_is_written_into_not_replaced(tmp_path):
    """Renaming over ``-o /dev/null`` put a regular file in its place (as root, /dev/null itself):
    a device, named pipe or socket is written into, as the shell's ``>`` does."""
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    write_bytes_atomic(fifo, b"through the pipe")
    reader.join(30)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and got == [b"through the pipe"]
    assert not list(tmp_path.glob(".pipe.tmp-*"))  # no temporary beside it


def test_write_text_atomic_without_replace_keeps_a_file_there(tmp_path):
    out = tmp_path / "x.json"
    out.write_text("first")
    with pytest.raises(FileExistsError) as e:
        write_text_atomic(out, "second", replace=False)
    assert e.value.filename == str(out) and out.read_text() == "first"
    write_text_atomic(tmp_path / "new.json", "new", replace=False)
    assert (tmp_path / "new.json").read_text() == "new"


def test_write_all_atomic_without_replace_takes_back_what_it_published(tmp_path):
    """The second name is another writer's: the first, published already, is removed again."""
    png, svg = tmp_path / "rd.png", tmp_path / "rd.svg"
    svg.write_bytes(b"their svg")
    with pytest.raises(FileExistsError) as e:
        write_all_atomic({png: b"my png", svg: b"my svg"}, replace=False)
    assert e.value.filename == str(svg)
    assert not os.path.lexists(png) and svg.read_bytes() == b"their svg"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rd.svg"]  # no temporaries


def test_write_all_atomic_without_replace_leaves_another_writers_file_of_a_name_it_published(
        tmp_path, monkeypatch):
    """A name this call published and another writer replaced since (with --force) is not
    removed on the way out: only this call's own files are."""
    a, b = tmp_path / "a.png", tmp_path / "b.svg"
    real = os.link

    def link(src, dst, *args, **kwargs):
        if os.fspath(dst) == str(b):
            a.unlink()
            a.write_bytes(b"forced")  # another writer's --force, after this one published a
            b.write_bytes(b"theirs")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "link", link)
    with pytest.raises(FileExistsError):
        write_all_atomic({a: b"mine a", b: b"mine b"}, replace=False)
    assert a.read_bytes() == b"forced" and b.read_bytes() == b"theirs"


def test_write_all_atomic_without_replace_writes_new_files_and_folders(tmp_path):
    files = {tmp_path / "new" / "rd.png": b"png", tmp_path / "new" / "rd.svg": b"svg"}
    assert write_all_atomic(files, replace=False) == list(files)
    assert [p.read_bytes() for p in files] == [b"png", b"svg"]
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["rd.png", "rd.svg"]


@pytest.mark.parametrize("length", [241, 242, 243, 245, 249, 250, 255])
def test_an_atomic_write_to_a_long_legal_name_succeeds(tmp_path, length):
    """The temporary name (.NAME.tmp- and 8 random hex digits) is shortened to fit 255 bytes,
    so every legal name up to 255 bytes can be written, and nothing else is left."""
    path = tmp_path / ("a" * (length - 5) + ".taco")
    assert len(path.name) == length
    write_bytes_atomic(path, b"x")
    assert path.read_bytes() == b"x"
    assert list(tmp_path.iterdir()) == [path]
