"""taco.fileobjects.own_file_problem: the one test of an own file that taco will not write
(a symbolic link, dangling or not; with in_place a hard link), and the one place its refusal is
composed, shared by taco caption, taco evaluate, taco plot, taco import-captions, taco demo and
a training run's files (each passes who writes the file and its other way out).

A hard link was refused with the symbolic link's advice, "remove the link (or put a copy of what
it links to in its place)": for a run's log, a results CSV or a captions file (``cp -al runA
runA-snap``) removing it loses this folder's log, results or captions (hours to make again), and
a hard link links to nothing. Its advice now keeps them: give the file a copy of its own."""

from __future__ import annotations

import os
import shlex
import subprocess

import pytest

from taco.fileobjects import own_file_problem
from taco.messages import shown_path

WORDS = {"writer": "W writes it", "otherwise": "go elsewhere"}


def test_a_symbolic_link_dangling_or_not(tmp_path):
    target = tmp_path / "target"
    os.symlink(target, tmp_path / "link")
    advice = ("W writes it, never through a link; remove the link (or put a copy of what it links to in its "
              "place), or go elsewhere")
    assert own_file_problem(tmp_path / "link", **WORDS) == (
        f"{tmp_path / 'link'} is a symbolic link (to {target}): {advice}")
    target.write_text("x")
    assert own_file_problem(tmp_path / "link", in_place=True, **WORDS) == (
        f"{tmp_path / 'link'} is a symbolic link (to {target}): {advice}")
    os.symlink(tmp_path, tmp_path / "folder-link")
    assert own_file_problem(str(tmp_path / "folder-link"), **WORDS) == (
        f"{tmp_path / 'folder-link'} is a symbolic link (to {tmp_path}): {advice}")


def test_a_hard_link_only_where_written_in_place(tmp_path):
    a = tmp_path / "a"
    a.write_text("")
    assert own_file_problem(a, in_place=True, **WORDS) is None
    os.link(a, tmp_path / "b")
    os.link(a, tmp_path / "c")
    assert own_file_problem(a, in_place=True, **WORDS) == (
        f"{a} is a hard link (a file with 3 names, which a write here would change too): W writes it; give "
        f"it a copy of its own (cp {a} {a}.copy && mv {a}.copy {a}), or go elsewhere")
    assert own_file_problem(a, **WORDS) is None  # replaced by a new file: the other names keep theirs


@pytest.mark.skipif(os.name != "posix", reason="the advice is a POSIX shell's")
@pytest.mark.parametrize("name", ["log.jsonl", "my log.jsonl", "it's $HOME.jsonl"])
def test_a_hard_links_advice_keeps_the_file_and_runs_as_written(tmp_path, name):
    """No "remove the link": the copy advice, the path shell-quoted where it needs it, run by
    the shell, leaves the file its content under one name and the other name as it was."""
    mine = tmp_path / name
    mine.write_text("hours of work\n")
    other = tmp_path / "snapshot"
    os.link(mine, other)
    why = own_file_problem(mine, in_place=True, **WORDS)
    assert why is not None
    assert "remove the link" not in why and "links to" not in why
    advice = why.split("give it a copy of its own (", 1)[1].split("), or ", 1)[0]
    quoted = shlex.quote(str(mine))
    assert advice == f"cp {quoted} {shlex.quote(f'{mine}.copy')} && mv {shlex.quote(f'{mine}.copy')} {quoted}"
    subprocess.run(["sh", "-c", advice], check=True, cwd=tmp_path)
    assert own_file_problem(mine, in_place=True, **WORDS) is None
    assert mine.read_text() == "hours of work\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "snapshot"])
    mine.write_text("more\n")
    assert other.read_text() == "hours of work\n"


def test_nothing_to_say(tmp_path):
    assert own_file_problem(tmp_path / "missing", **WORDS) is None
    assert own_file_problem(tmp_path, in_place=True, **WORDS) is None
    assert own_file_problem(tmp_path / "missing" / "deeper", **WORDS) is None
    assert own_file_problem("a\x00b", **WORDS) is None  # the write says why


def _advice(why: str | None) -> str:
    assert why is not None
    return why.split("give it a copy of its own (", 1)[1].rsplit("), or ", 1)[0]


@pytest.mark.skipif(os.name != "posix", reason="the advice is a POSIX shell's")
@pytest.mark.parametrize("name", ["-log.jsonl", "--help", "-", "it's \"$(touch pwned)\" `x` *.jsonl",
                                  "-n 'a b'", "café ς.jsonl"])
def test_a_hard_links_advice_for_a_relative_name_runs_pasted_in_a_shell(tmp_path, monkeypatch, name):
    """A relative name starting with ``-`` was given as ``cp -log.jsonl -log.jsonl.copy``, which
    cp reads as options (and fails, or with ``-n`` does something else); it is written
    ``./-log.jsonl`` now. Quotes, ``$( )`` and backticks stay quoted: the shell runs no part of
    the name."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_text("hours of work\n")
    os.link(tmp_path / name, tmp_path / "snapshot")
    why = own_file_problem(name, in_place=True, **WORDS)
    advice = _advice(why)
    assert advice.startswith("cp ")
    done = subprocess.run(["sh", "-c", advice], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert own_file_problem(name, in_place=True, **WORDS) is None
    assert (tmp_path / name).read_text() == "hours of work\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "snapshot"])  # nothing else made


@pytest.mark.skipif(os.name != "posix", reason="names of any bytes")
@pytest.mark.parametrize("name", ["log\njsonl", "\x1b[2Jlog.jsonl", "log\tjsonl", "log\udcff.jsonl"])
def test_a_hard_link_whose_name_cannot_be_shown_gets_no_command(tmp_path, name):
    """The name shown escaped (``log\\njsonl``) is not the file's: pasted, ``cp 'log\\njsonl' ...``
    copied no file (or another one). Such a name gets the way in words, and the line stays one."""
    mine = tmp_path / name
    mine.write_text("x")
    os.link(mine, tmp_path / "snapshot")
    why = own_file_problem(mine, in_place=True, **WORDS)
    assert why is not None and "\n" not in why and "\x1b" not in why and "\t" not in why
    assert why.startswith(f"{tmp_path}/{shown_path(name)} is a hard link (a file with 2 names")
    assert _advice(why) == ("copy it to another name and move the copy back over it; its name holds "
                            "characters that cannot be shown here, so no command is given")
