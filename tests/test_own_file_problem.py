"""taco.fileobjects.own_file_problem: the one test of an own file that taco will not write
(a symbolic link, dangling or not; with in_place a hard link), shared by taco caption, taco
evaluate, taco plot, taco import-captions, taco demo and a training run's files."""

from __future__ import annotations

import os

from taco.fileobjects import own_file_problem


def test_a_symbolic_link_dangling_or_not(tmp_path):
    target = tmp_path / "target"
    os.symlink(target, tmp_path / "link")
    assert own_file_problem(tmp_path / "link") == f"{tmp_path / 'link'} is a symbolic link (to {target})"
    target.write_text("x")
    assert own_file_problem(tmp_path / "link", in_place=True) == (
        f"{tmp_path / 'link'} is a symbolic link (to {target})")
    os.symlink(tmp_path, tmp_path / "folder-link")
    assert own_file_problem(str(tmp_path / "folder-link")) == (
        f"{tmp_path / 'folder-link'} is a symbolic link (to {tmp_path})")


def test_a_hard_link_only_where_written_in_place(tmp_path):
    a = tmp_path / "a"
    a.write_text("")
    assert own_file_problem(a, in_place=True) is None
    os.link(a, tmp_path / "b")
    os.link(a, tmp_path / "c")
    assert own_file_problem(a, in_place=True) == f"{a} is a hard link (a file with 3 names)"
    assert own_file_problem(a) is None  # replaced by a new file: the other names keep theirs


def test_nothing_to_say(tmp_path):
    assert own_file_problem(tmp_path / "missing") is None
    assert own_file_problem(tmp_path) is None
    assert own_file_problem(tmp_path / "missing" / "deeper") is None
    assert own_file_problem("a\x00b") is None  # the write says why
