"""A write through a symbolic link stages its temporary beside the file the link points to (a
run's checkpoint.safetensors linked onto another disk): the clean-up, which looked only beside
the link, never found what a killed write left there."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from taco import shards
from taco.atomic import remove_stale_temporaries, stale_temporaries, temporary_path

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="symbolic links")


def _linked_run(tmp_path: Path) -> tuple[Path, Path, Path]:
    """run/checkpoint.safetensors -> disk2/ckpt.safetensors, and what a killed write through the
    link left beside the file (a temporary no writer holds)."""
    disk2, run = tmp_path / "disk2", tmp_path / "run"
    disk2.mkdir()
    run.mkdir()
    real = disk2 / "ckpt.safetensors"
    real.write_bytes(b"old")
    link = run / "checkpoint.safetensors"
    link.symlink_to(real)
    left = temporary_path(real)
    left.write_bytes(b"half")
    return link, real, left


def test_stale_temporaries_looks_beside_the_file_a_link_points_to(tmp_path):
    link, _, left = _linked_run(tmp_path)
    assert stale_temporaries(link) == [left]


def test_remove_stale_temporaries_removes_those_beside_the_file_a_link_points_to(tmp_path):
    link, real, left = _linked_run(tmp_path)
    assert remove_stale_temporaries([link]) == [left]
    assert sorted(p.name for p in real.parent.iterdir()) == ["ckpt.safetensors"]
    assert link.read_bytes() == b"old"


def test_a_runs_clean_up_removes_those_beside_the_file_a_link_points_to(tmp_path):
    link, real, _ = _linked_run(tmp_path)
    shards.remove_stale(link)
    assert sorted(p.name for p in real.parent.iterdir()) == ["ckpt.safetensors"]
    assert link.is_symlink() and link.read_bytes() == b"old"


def test_a_link_to_nothing_or_a_loop_is_no_error(tmp_path):
    dangling = tmp_path / "a.taco"
    dangling.symlink_to(tmp_path / "gone" / "x.taco")
    loop = tmp_path / "loop.taco"
    loop.symlink_to("loop.taco")
    assert stale_temporaries(dangling) == stale_temporaries(loop) == []
    assert remove_stale_temporaries([dangling, loop]) == []
    new = tmp_path / "b.taco"
    new.symlink_to("new.taco")  # a write through it stages beside new.taco, in this folder
    left = temporary_path(tmp_path / "new.taco")
    left.write_bytes(b"half")
    assert remove_stale_temporaries([new]) == [left]
