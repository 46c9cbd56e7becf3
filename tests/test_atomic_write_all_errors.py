"""write_all_atomic fails as write_bytes_atomic does (one staging and one error path for both):
the same error, naming the target, every temporary removed, every target as it was."""

import errno
import os
import sys
from pathlib import Path

import pytest

from taco.atomic import write_all_atomic, write_bytes_atomic


def _failure(write, *args):  # noqa: ANN001, ANN202
    with pytest.raises(BaseException) as err:
        write(*args)
    return err.value


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EFBIG, KeyboardInterrupt()])
def test_a_failed_write_is_the_same_error_for_one_file_and_for_all(tmp_path, fail_writes, error):
    one, two = tmp_path / "one.bin", tmp_path / "two.bin"
    one.write_bytes(b"old one")
    fail_writes(error, target="two.bin")
    alone = _failure(write_bytes_atomic, two, b"new two")
    both = _failure(write_all_atomic, {one: b"new one", two: b"new two"})
    assert (type(both), both.args, getattr(both, "filename", None)) == (
        type(alone), alone.args, getattr(alone, "filename", None))
    if isinstance(error, int):
        assert both.errno == error and both.filename == str(two)
        assert both.__suppress_context__ and both.__cause__ is None
    assert one.read_bytes() == b"old one" and not two.exists()
    assert sorted(os.listdir(tmp_path)) == ["one.bin"]  # no temporaries


@pytest.mark.skipif(sys.platform == "win32", reason="renames over a folder differ")
def test_a_failed_rename_names_its_target_and_leaves_no_temporaries(tmp_path):
    one, two = tmp_path / "one.bin", tmp_path / "two.bin"
    two.mkdir()
    (two / "x").write_bytes(b"")
    alone = _failure(write_bytes_atomic, two, b"new")
    both = _failure(write_all_atomic, {one: b"new one", two: b"new two"})
    assert isinstance(both, OSError) and both.filename == str(two) == alone.filename
    assert (type(both), both.errno) == (type(alone), alone.errno)
    assert sorted(os.listdir(tmp_path)) == ["one.bin", "two.bin"]  # the first was published


def test_a_folder_that_cannot_be_made_is_raised_as_it_is(tmp_path):
    (tmp_path / "file").write_bytes(b"")
    one, two = tmp_path / "one.bin", tmp_path / "file" / "two.bin"
    alone = _failure(write_bytes_atomic, two, b"new")
    both = _failure(write_all_atomic, {one: b"new one", two: b"new two"})
    assert (type(both), both.args, both.filename) == (type(alone), alone.args, alone.filename)
    assert sorted(os.listdir(tmp_path)) == ["file"]  # the first temporary removed too


def test_write_all_new_takes_back_only_its_own_files(tmp_path, monkeypatch):
    """replace=False: a.png published, b.png found taken; a.png, replaced meanwhile by another
    process's file, is that process's: left as it is (only this call's own file is removed)."""
    import os

    from taco.atomic import write_all_atomic

    a, b = tmp_path / "a.png", tmp_path / "b.png"
    b.write_bytes(b"theirs b")
    real_link = os.link

    def link(src, dst, *args, **kwargs):
        real_link(src, dst, *args, **kwargs)
        if Path(dst) == a:  # another writer replaces a.png right after this one published it
            other = tmp_path / "other.tmp"
            other.write_bytes(b"theirs a")
            os.replace(other, a)

    monkeypatch.setattr(os, "link", link)
    with pytest.raises(FileExistsError):
        write_all_atomic({a: b"mine a", b: b"mine b"}, replace=False)
    assert a.read_bytes() == b"theirs a"
    assert b.read_bytes() == b"theirs b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]


def test_write_all_new_removes_its_own_files_when_one_is_taken(tmp_path):
    from taco.atomic import write_all_atomic

    a, b = tmp_path / "a.png", tmp_path / "b.png"
    b.write_bytes(b"theirs b")
    with pytest.raises(FileExistsError) as info:
        write_all_atomic({a: b"mine a", b: b"mine b"}, replace=False)
    assert info.value.filename == str(b)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.png"]
    assert b.read_bytes() == b"theirs b"


def test_write_all_new_at_a_link_into_a_missing_folder_says_the_name_is_taken(tmp_path):
    """replace=False stages beside the name, not beside a link's target: a dangling link there
    (into a folder that is not there) is a name taken, FileExistsError naming it."""
    import os

    from taco.atomic import write_all_atomic

    a = tmp_path / "a.png"
    os.symlink(tmp_path / "gone" / "x.png", a)
    with pytest.raises(FileExistsError) as info:
        write_all_atomic({a: b"mine"}, replace=False)
    assert info.value.filename == str(a)
    assert os.readlink(a) == str(tmp_path / "gone" / "x.png")
    assert not (tmp_path / "gone").exists()
