"""scripts/gpu_slice.sh without training (TRAIN_TIME=0, or auto leaving under 30 s) still brings
the benchmark's JSON files back in OUT/run.tar.gz (it exited before any sync, and they stayed on
the machine); and it leaves no empty folder in TMPDIR (each call left an empty /tmp/slice.*),
nor an empty TMPDIR/slice.*/inductor (importing torch makes TORCHINDUCTOR_CACHE_DIR, and the exit
trap's rmdir of the slice's folder failed on it): a folder holding a compiled kernel stays.
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


#: Shell lines first in the stand-in Python: what importing torch does, and a compile's leftovers.
INDUCTOR = """mkdir -p "$TORCHINDUCTOR_CACHE_DIR"   # what importing torch does
if [ -n "${KERNEL:-}" ]; then         # a compile: a kernel, and folders left empty beside it
    mkdir -p "$TORCHINDUCTOR_CACHE_DIR/fxgraph/ab" "$TORCHINDUCTOR_CACHE_DIR/triton/0/x"
    echo kernel > "$TORCHINDUCTOR_CACHE_DIR/fxgraph/ab/kernel.py"
fi
"""


def _left(tmp_path: Path) -> list[str]:
    tmp = tmp_path / "tmp"
    return sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*"))


@pytest.mark.parametrize("env", [
    {"BENCH": "0", "TRAIN_TIME": "auto", "BUDGET": "60"},  # auto leaves under 30 s
    {"BENCH": "0", "TRAIN_TIME": "0"},
])  # fmt: skip
def test_a_slice_that_trained_nothing_leaves_nothing_in_tmp(gpu_slice, tmp_path, env):
    result = gpu_slice(INDUCTOR, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _left(tmp_path) == []


def test_a_used_slice_folder_keeps_its_files_but_not_an_empty_inductor(gpu_slice, tmp_path):
    result = gpu_slice(INDUCTOR, BENCH="1", TRAIN_TIME="0")  # the benchmark's JSON in the folder
    assert result.returncode == 0, result.stdout + result.stderr
    (folder,) = (tmp_path / "tmp").iterdir()
    assert sorted(p.name for p in folder.iterdir()) == ["run-bench-paper.json", "run-bench-small.json"]


def test_a_compiled_kernel_stays_with_its_folders(gpu_slice, tmp_path):
    result = gpu_slice(INDUCTOR, BENCH="0", TRAIN_TIME="0", KERNEL="1")
    assert result.returncode == 0, result.stdout + result.stderr
    (folder,) = (tmp_path / "tmp").iterdir()
    left = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    assert left == ["inductor", "inductor/fxgraph", "inductor/fxgraph/ab", "inductor/fxgraph/ab/kernel.py"]
    assert (folder / "inductor" / "fxgraph" / "ab" / "kernel.py").read_text() == "kernel\n"
