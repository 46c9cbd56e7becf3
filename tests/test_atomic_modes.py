"""Replacing an output keeps its permission bits and writes through a symbolic link (as ``cp``
and the shell's ``>`` do): a 0600 file rewritten with --force was 0644 after, and a link given
as the output was replaced by a regular file while the file it pointed to kept its old bytes."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import pytest

from taco.atomic import write_all_atomic, write_bytes_atomic, write_text_atomic

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits and links")


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@posix_only
@pytest.mark.parametrize("writer", ["bytes", "text", "all"])
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755], ids=oct)
def test_a_replaced_file_keeps_its_permission_bits(tmp_path, writer, mode):
    path = tmp_path / "out.taco"
    path.write_bytes(b"old")
    path.chmod(mode)
    old = os.umask(0o022)
    try:
        if writer == "bytes":
            write_bytes_atomic(path, b"new")
        elif writer == "text":
            write_text_atomic(path, "new")
        else:
            write_all_atomic({path: b"new"})
    finally:
        os.umask(old)
    assert path.read_bytes() == b"new" and _mode(path) == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.taco"]


@posix_only
def test_a_new_file_still_has_the_umasks_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        write_bytes_atomic(tmp_path / "a.taco", b"x")
        write_bytes_atomic(tmp_path / "b.taco", b"x", replace=False)
    finally:
        os.umask(old)
    assert _mode(tmp_path / "a.taco") == _mode(tmp_path / "b.taco") == 0o640


@posix_only
def test_a_mode_that_cannot_be_copied_loses_no_write(tmp_path, monkeypatch):
    path = tmp_path / "out.taco"
    path.write_bytes(b"old")
    path.chmod(0o600)

    def refuse(fd, mode):
        raise PermissionError(errno.EPERM, "not permitted")

    monkeypatch.setattr(os, "fchmod", refuse)
    write_bytes_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.taco"]


@posix_only
@pytest.mark.parametrize("relative", [True, False])
@pytest.mark.parametrize("writer", ["bytes", "text", "all"])
def test_a_link_is_written_through_and_stays(tmp_path, relative, writer):
    real = tmp_path / "real"
    real.mkdir()
    target = real / "t.taco"
    target.write_bytes(b"old")
    target.chmod(0o600)
    link = tmp_path / "link.taco"
    link.symlink_to(Path("real/t.taco") if relative else target)
    if writer == "bytes":
        assert write_bytes_atomic(link, b"new") == link
    elif writer == "text":
        write_text_atomic(link, "new")
    else:
        write_all_atomic({link: b"new"})
    assert link.is_symlink() and os.readlink(link) == str(Path("real/t.taco") if relative else target)
    assert target.read_bytes() == b"new" and _mode(target) == 0o600
    assert sorted(p.name for p in real.iterdir()) == ["t.taco"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.taco", "real"]


@posix_only
def test_a_link_to_nothing_writes_the_file_it_names(tmp_path):
    link = tmp_path / "link.taco"
    link.symlink_to("new.taco")
    write_bytes_atomic(link, b"new")
    assert link.is_symlink() and (tmp_path / "new.taco").read_bytes() == b"new"


@posix_only
def test_a_link_into_a_missing_folder_is_refused_naming_the_link(tmp_path):
    link = tmp_path / "link.taco"
    link.symlink_to(tmp_path / "nothere" / "x.taco")
    with pytest.raises(FileNotFoundError) as exc:
        write_bytes_atomic(link, b"new")
    assert exc.value.errno == errno.ENOENT and exc.value.filename == str(link)
    assert "folder that does not exist" in str(exc.value)
    assert link.is_symlink() and not (tmp_path / "nothere").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.taco"]


@posix_only
def test_a_loop_of_links_is_eloop_naming_it(tmp_path):
    loop = tmp_path / "loop.taco"
    loop.symlink_to("loop.taco")
    with pytest.raises(OSError) as exc:
        write_bytes_atomic(loop, b"new")
    assert exc.value.errno == errno.ELOOP and exc.value.filename == str(loop)
    assert loop.is_symlink()


@posix_only
def test_not_replacing_still_refuses_a_link(tmp_path):
    """replace=False (no --force) counts a link as an output there, and writes nothing through it."""
    target = tmp_path / "t.taco"
    target.write_bytes(b"old")
    link = tmp_path / "link.taco"
    link.symlink_to(target)
    with pytest.raises(FileExistsError) as exc:
        write_bytes_atomic(link, b"new", replace=False)
    assert exc.value.filename == str(link) and target.read_bytes() == b"old" and link.is_symlink()


root_only = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                               reason="giving a file to another user takes root")
OTHER = 65534  # nobody / nogroup


def _owner(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_uid, st.st_gid


@root_only
@pytest.mark.parametrize("writer", ["bytes", "text", "all"])
def test_a_replaced_file_of_another_user_keeps_its_owner(tmp_path, writer):
    """Root replacing nobody's 0640 file made it root's 0640: nobody could not read it."""
    path = tmp_path / "own.taco"
    path.write_bytes(b"old")
    os.chown(path, OTHER, OTHER)
    path.chmod(0o640)
    if writer == "bytes":
        write_bytes_atomic(path, b"new")
    elif writer == "text":
        write_text_atomic(path, "new")
    else:
        write_all_atomic({path: b"new"})
    assert path.read_bytes() == b"new" and _owner(path) == (OTHER, OTHER) and _mode(path) == 0o640


@root_only
def test_an_owner_that_cannot_be_kept_leaves_the_umasks_bits(tmp_path, monkeypatch):
    """Another user's file the writer cannot give back becomes the writer's, with the umask's
    bits, not the other user's (0600 of the writer's would lock its owner out)."""
    path = tmp_path / "own.taco"
    path.write_bytes(b"old")
    os.chown(path, OTHER, OTHER)
    path.chmod(0o600)

    def refuse(fd, uid, gid):
        raise PermissionError(errno.EPERM, "not permitted")

    monkeypatch.setattr(os, "fchown", refuse)
    old = os.umask(0o022)
    try:
        write_bytes_atomic(path, b"new")
    finally:
        os.umask(old)
    assert path.read_bytes() == b"new" and _owner(path) == (os.geteuid(), os.getegid())
    assert _mode(path) == 0o644


@root_only
def test_the_writers_own_file_keeps_its_bits_when_its_group_cannot_be_kept(tmp_path, monkeypatch):
    path = tmp_path / "own.taco"
    path.write_bytes(b"old")
    os.chown(path, os.geteuid(), OTHER)
    path.chmod(0o640)

    def refuse(fd, uid, gid):
        raise PermissionError(errno.EPERM, "not permitted")

    monkeypatch.setattr(os, "fchown", refuse)
    write_bytes_atomic(path, b"new")
    assert path.read_bytes() == b"new" and _mode(path) == 0o640


@posix_only
def test_a_hard_link_of_the_replaced_file_keeps_the_old_content(tmp_path):
    """The named path alone gets the new file (as docs/reliability.md says), as ``mv`` would."""
    path = tmp_path / "out.taco"
    path.write_bytes(b"old")
    other = tmp_path / "hard.taco"
    os.link(path, other)
    write_bytes_atomic(path, b"new")
    assert path.read_bytes() == b"new" and other.read_bytes() == b"old"
    assert path.stat().st_nlink == other.stat().st_nlink == 1
