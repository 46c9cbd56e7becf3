"""scripts/gpu_slice.sh without training (TRAIN_TIME=0, or auto leaving under 30 s) still brings
the benchmark's JSON files back in OUT/run.tar.gz (it exited before any sync, and they stayed on
the machine); and it leaves no empty folder in TMPDIR (each call left an empty /tmp/slice.*).
Run with a stand-in Python (conftest's gpu_slice): the benchmark writes its --json file, sync is the
real one."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest


def _brought_back(tmp_path: Path) -> list[str]:
    with tarfile.open(tmp_path / "out" / "run.tar.gz") as tar:
        return sorted(tar.getnames())


@pytest.mark.parametrize(("env", "says"), [
    ({"TRAIN_TIME": "0"}, "done (no training: TRAIN_TIME=0)"),
    ({"TRAIN_TIME": "auto", "BUDGET": "60", "RESERVE": "60"}, "no time left to train (BUDGET=60)"),
])
def test_the_benchmark_comes_back_without_training(gpu_slice, tmp_path, env, says):
    result = gpu_slice(RUN=str(tmp_path / "slice" / "run"), **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert says in result.stdout
    assert _brought_back(tmp_path) == ["run-bench-paper.json", "run-bench-small.json"]
    assert list((tmp_path / "tmp").iterdir()) == []  # RUN given: no folder of its own left


def test_the_slice_folder_is_made_in_tmpdir_and_kept_only_when_used(gpu_slice, tmp_path):
    used = gpu_slice(TRAIN_TIME="0")  # no RUN: the run's files go to TMPDIR/slice.*
    assert used.returncode == 0, used.stdout + used.stderr
    (folder,) = (tmp_path / "tmp").iterdir()
    assert folder.name.startswith("slice.") and (folder / "run-bench-small.json").is_file()
    assert _brought_back(tmp_path) == ["run-bench-paper.json", "run-bench-small.json"]


def test_an_unused_slice_folder_is_removed(gpu_slice, tmp_path):
    result = gpu_slice(TRAIN_TIME="0", BENCH="0")  # nothing written into it
    assert result.returncode == 0, result.stdout + result.stderr
    assert list((tmp_path / "tmp").iterdir()) == []
