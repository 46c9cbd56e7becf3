"""scripts/lambda_sweep.sh (docs/training.md): a failed λ is said, with the end of its log, the
other λ still run, and the sweep's status is 1. The training runs are a stand-in ``PYTHON``
(the script's own knob) so that the test runs the script itself, not six trainings."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "lambda_sweep.sh"

STAND_IN = """#!/bin/sh
case "$*" in *--print-config*) echo "out_dir: $SWEEP_OUT"; exit 0 ;; esac
echo "$*" >> "$SWEEP_OUT/runs.txt"
case "$*" in *lmbda=0.0016*) echo "error: no CLIP weights here" >&2; exit 2 ;; esac
exit 0
"""


def sweep(tmp_path: Path, gpus: str | None, fails: bool = True) -> subprocess.CompletedProcess[str]:
    python = tmp_path / "python"
    python.write_text(STAND_IN if fails else STAND_IN.replace("exit 2", "exit 0"))
    python.chmod(0o755)
    env = {**os.environ, "PYTHON": str(python), "SWEEP_OUT": str(tmp_path)}
    env.pop("GPUS", None)
    if gpus is not None:
        env["GPUS"] = gpus
    return subprocess.run(["bash", str(SCRIPT), "configs/smoke.yaml"], env=env, text=True,
                          capture_output=True, timeout=60)


@pytest.mark.parametrize("gpus", [None, "0 1"])
def test_a_failed_lambda_is_said_and_the_sweep_fails(tmp_path: Path, gpus: str | None) -> None:
    r = sweep(tmp_path, gpus)
    assert r.returncode == 1, r
    assert "λ=0.0016 failed (status 2)" in r.stderr and "error: no CLIP weights here" in r.stderr
    assert "not done" in r.stderr and "done:" not in r.stdout
    runs = (tmp_path / "runs.txt").read_text().splitlines()
    assert len(runs) == 6, runs  # the λ after the failed one ran too


def test_a_sweep_that_succeeds_says_done(tmp_path: Path) -> None:
    r = sweep(tmp_path, "0 1 2", fails=False)
    assert r.returncode == 0 and "done:" in r.stdout and not r.stderr, r


def test_a_lambda_with_a_run_is_resumed(tmp_path: Path) -> None:
    """Its state, or a state's shard index, or only its config.yaml (a run stopped before its
    first state, which a new run refuses): --resume; an empty or new folder: a new run."""
    for lmbda, name in [("0.0004", "train_state.safetensors"), ("0.0008", "config.yaml"),
                        ("0.0016", "train_state.safetensors.index.json"), ("0.004", None)]:
        (tmp_path / f"lambda-{lmbda}").mkdir()
        if name:
            (tmp_path / f"lambda-{lmbda}" / name).write_text("")
    assert sweep(tmp_path, None, fails=False).returncode == 0
    runs = (tmp_path / "runs.txt").read_text().splitlines()
    assert [("--resume" in r) for r in runs] == [True, True, True, False, False, False], runs
