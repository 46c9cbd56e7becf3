"""A write that fails leaves no empty folder it made (``taco decompress x.taco -o q/a/b/`` on a
full disk left q, q/a, q/a/b), and a failed write into a device names it (``-o /dev/full -f``
said only "no space left on device") (review P)."""

from __future__ import annotations

import errno
import importlib.util
import os
from pathlib import Path

import pytest

from taco.atomic import write_all_atomic, write_bytes_atomic


def test_a_failed_write_removes_the_folders_it_made(tmp_path: Path, fail_writes) -> None:
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "kept.txt").write_text("x")  # q is not the write's: it stays
    fail_writes(errno.ENOSPC)
    with pytest.raises(OSError) as caught:
        write_bytes_atomic(tmp_path / "q" / "a" / "b" / "out.png", b"data" * 1000)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename.endswith("out.png")
    assert sorted(p.name for p in (tmp_path / "q").iterdir()) == ["kept.txt"]
    with pytest.raises(OSError):
        write_all_atomic({tmp_path / "r" / "fig.png": b"png", tmp_path / "r" / "s" / "fig.svg": b"svg"})
    assert not (tmp_path / "r").exists()


def test_a_write_that_succeeds_keeps_its_folders(tmp_path: Path) -> None:
    write_bytes_atomic(tmp_path / "a" / "b" / "out.png", b"data")
    assert (tmp_path / "a" / "b" / "out.png").read_bytes() == b"data"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_a_failed_write_into_a_device_names_it() -> None:
    with pytest.raises(OSError) as caught:
        write_bytes_atomic("/dev/full", b"data" * 10_000)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == "/dev/full"


def test_a_mkdir_that_fails_further_down_removes_those_made_above(tmp_path: Path) -> None:
    """A name too long two folders down: q2 and q2/b were made, then left (review R)."""
    with pytest.raises(OSError):
        write_bytes_atomic(tmp_path / "q2" / "b" / ("a" * 300) / "x.bin", b"x")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(importlib.util.find_spec("resource") is None
                    or not hasattr(__import__("signal"), "SIGXFSZ"),
                    reason="needs RLIMIT_FSIZE and SIGXFSZ (POSIX)")
def test_a_small_write_that_fails_at_its_flush_leaves_nothing(tmp_path: Path) -> None:
    """A file smaller than the write buffer fails at its flush, and the handler's close flushed
    again and raised: the temporary and the folders stayed, and the error named no file (review U)."""
    import subprocess
    import sys

    code = ("import resource, signal, sys\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))\n"
            "from taco.atomic import write_bytes_atomic\n"
            "try:\n"
            "    write_bytes_atomic(sys.argv[1], b'x' * 10)\n"
            "except OSError as exc:\n"
            "    print(exc.errno, exc.filename)\n")
    target = tmp_path / "d" / "sub" / "x.taco"
    done = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.split() == [str(errno.EFBIG), str(target)], done.stderr
    assert list(tmp_path.iterdir()) == []
