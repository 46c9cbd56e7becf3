"""scripts/gpu_slice.sh without training (TRAIN_TIME=0, or auto leaving under 30 s) still brings
the benchmark's JSON files back in OUT/run.tar.gz (it exited before any sync, and they stayed on
the machine); and it leaves no empty folder in TMPDIR (each call left an empty /tmp/slice.*).
Run with a stand-in Python: the benchmark writes its --json file, sync is the real one."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gpu_slice.sh"

STUB = """#!/usr/bin/env bash
case "$1" in
    benchmarks/*)
        while [ $# -gt 0 ]; do [ "$1" = --json ] && echo '{"variants": []}' > "$2"; shift; done;;
    scripts/gpu_slice.py) shift; exec "$REAL_PY" "$REPO/scripts/gpu_slice.py" "$@";;
esac
exit 0
"""


def _slice(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    stub = tmp_path / "python"
    stub.write_text(STUB)
    stub.chmod(0o755)
    (tmp_path / "tmp").mkdir()
    run_env = {**os.environ, "PY": str(stub), "REAL_PY": sys.executable, "REPO": str(ROOT),
               "OUT": str(tmp_path / "out"), "TMPDIR": str(tmp_path / "tmp"), **env}  # fmt: skip
    run_env.pop("TORCHINDUCTOR_CACHE_DIR", None)
    return subprocess.run(["bash", str(SCRIPT)], cwd=tmp_path, env=run_env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def _brought_back(tmp_path: Path) -> list[str]:
    with tarfile.open(tmp_path / "out" / "run.tar.gz") as tar:
        return sorted(tar.getnames())


@pytest.mark.parametrize(("env", "says"), [
    ({"TRAIN_TIME": "0"}, "done (no training: TRAIN_TIME=0)"),
    ({"TRAIN_TIME": "auto", "BUDGET": "60", "RESERVE": "60"}, "no time left to train (BUDGET=60)"),
])
def test_the_benchmark_comes_back_without_training(tmp_path, env, says):
    result = _slice(tmp_path, RUN=str(tmp_path / "slice" / "run"), **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert says in result.stdout
    assert _brought_back(tmp_path) == ["run-bench-paper.json", "run-bench-small.json"]
    assert list((tmp_path / "tmp").iterdir()) == []  # RUN given: no folder of its own left


def test_the_slice_folder_is_made_in_tmpdir_and_kept_only_when_used(tmp_path):
    used = _slice(tmp_path, TRAIN_TIME="0")  # no RUN: the run's files go to TMPDIR/slice.*
    assert used.returncode == 0, used.stdout + used.stderr
    (folder,) = (tmp_path / "tmp").iterdir()
    assert folder.name.startswith("slice.") and (folder / "run-bench-small.json").is_file()
    assert _brought_back(tmp_path) == ["run-bench-paper.json", "run-bench-small.json"]


def test_an_unused_slice_folder_is_removed(tmp_path):
    result = _slice(tmp_path, TRAIN_TIME="0", BENCH="0")  # nothing written into it
    assert result.returncode == 0, result.stdout + result.stderr
    assert list((tmp_path / "tmp").iterdir()) == []
