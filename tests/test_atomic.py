"""taco.atomic: whole-file writes that leave the old file or the new one, never half of either,
and no temporary file behind when they fail; the writers that use it (text files, CLIP vocab)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

import taco.atomic
from taco.atomic import stale_temporaries, write_text_atomic


def _full_disk(monkeypatch) -> None:
    """Every atomic write writes half its bytes, then fails as a full disk does."""

    def failing(f, data):
        f.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(taco.atomic, "_write_all", failing)


def test_write_text_atomic_writes_exactly_the_text(tmp_path):
    path = tmp_path / "sub" / "a.txt"
    assert write_text_atomic(path, "é\r\nb\n") == path
    assert path.read_bytes() == "é\r\nb\n".encode()  # encoded as is, no newline translation
    write_text_atomic(path, "new")
    assert path.read_text(encoding="utf-8") == "new"
    assert stale_temporaries(path) == []


def test_write_text_atomic_that_fails_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "a.txt"
    path.write_text("old", encoding="utf-8")
    _full_disk(monkeypatch)
    with pytest.raises(OSError) as exc:
        write_text_atomic(path, "new" * 1000)
    assert exc.value.errno == errno.ENOSPC
    assert path.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_clip_vocab_files_are_written_atomically(tmp_path, monkeypatch):
    from taco.text.clip_vocab import _write_files

    _write_files(tmp_path, {"vocab.txt": "a b\n"})
    assert (tmp_path / "vocab.txt").read_text(encoding="utf-8") == "a b\n"
    _full_disk(monkeypatch)
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


def test_a_failed_write_names_the_target_not_its_temporary(tmp_path, monkeypatch):
    path = tmp_path / "a.txt"
    _full_disk(monkeypatch)
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
