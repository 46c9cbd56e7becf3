"""scripts/lambda_sweep.sh (docs/training.md): a failed λ is said, with the end of its log, the
other λ still run, and the sweep's status is 1. The training runs are a stand-in ``PYTHON``
(the script's own knob) so that the test runs the script itself, not six trainings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "lambda_sweep.sh"

STAND_IN = """#!/bin/sh
case "$*" in *--print-config*) echo "out_dir: $SWEEP_OUT"; exit 0 ;; -c*) exec "$REAL_PYTHON" "$@" ;; esac
echo "$*" >> "$SWEEP_OUT/runs.txt"
case "$*" in *lmbda=0.0016*) echo "error: no CLIP weights here" >&2; exit 2 ;; esac
exit 0
"""


def sweep(tmp_path: Path, gpus: str | None, fails: bool = True) -> subprocess.CompletedProcess[str]:
    python = tmp_path / "python"
    python.write_text(STAND_IN if fails else STAND_IN.replace("exit 2", "exit 0"))
    python.chmod(0o755)
    env = {**os.environ, "PYTHON": str(python), "SWEEP_OUT": str(tmp_path), "REAL_PYTHON": sys.executable}
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


#: A stand-in ``PYTHON`` over the real one: the config (``--print-config``) and the script's own
#: ``-c`` are the real ones; a λ's training run records instead the λ and out_dir that its command
#: line resolves to (``--print-config``: no training).
RESOLVING = """#!/bin/sh
case "$*" in *--print-config*|-c*) exec "$REAL_PYTHON" "$@" ;; esac
"$REAL_PYTHON" "$@" --print-config | "$REAL_PYTHON" -c \\
    'import sys, yaml; c = yaml.safe_load(sys.stdin); print(repr(c["lmbda"]), c["out_dir"])' \\
    >> "$SWEEP_LOG"
"""
LAMBDAS = ["0.0004", "0.0008", "0.0016", "0.004", "0.009", "0.015"]


def resolving_sweep(tmp_path: Path, *argv: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """The script on a real config (configs/... of the repo), each λ's run resolved and not
    trained, from ``tmp_path``: (its result, the "λ out_dir" of each run)."""
    argv = tuple(str(SCRIPT.parents[1] / a) if a.startswith("configs/") else a for a in argv)
    python = tmp_path / "python"
    python.write_text(RESOLVING)
    python.chmod(0o755)
    log = tmp_path / "runs.txt"
    env = {**os.environ, "PYTHON": str(python), "REAL_PYTHON": sys.executable, "SWEEP_LOG": str(log)}
    env.pop("GPUS", None)
    r = subprocess.run(["bash", str(SCRIPT), *argv], env=env, text=True, capture_output=True,
                       timeout=300, cwd=tmp_path)
    return r, log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_out_dir_given_with_o_holds_each_lambda_in_its_folder(tmp_path: Path) -> None:
    """-o DIR (applied after --set) won over the script's --set out_dir=DIR/lambda-λ: every λ
    trained in DIR itself (the first one; the others found its run there)."""
    out = tmp_path / "sweep"
    r, runs = resolving_sweep(tmp_path, "configs/smoke.yaml", "-o", str(out), "--max-steps", "2")
    assert r.returncode == 0, r.stderr
    assert runs == [f"{lmbda} {out}/lambda-{lmbda}" for lmbda in LAMBDAS]
    assert f"done: {out}/lambda-*/checkpoint.safetensors" in r.stdout


@pytest.mark.parametrize("out", ["runs/é", "2024", "yes", "a: b"])
def test_out_dir_is_read_as_yaml(tmp_path: Path, out: str) -> None:
    """The config's out_dir was cut from --print-config's YAML as text: runs/é became a folder
    named "runs/\\xE9" (quotes and escapes kept), 2024 one named "'2024'"."""
    value = json.dumps(out, ensure_ascii=False)  # a YAML string
    r, runs = resolving_sweep(tmp_path, "configs/smoke.yaml", "--set", f"out_dir={value}")
    assert r.returncode == 0, r.stderr
    assert runs == [f"{lmbda} {out}/lambda-{lmbda}" for lmbda in LAMBDAS]
    assert f"λ=0.0004 -> {out}/lambda-0.0004" in r.stdout


@pytest.mark.parametrize("argv, message", [
    (["configs/smoke.yaml", "--set", "qualities=[0.001,0.01]"],
     "--lambda-sweep trains one single-rate model per λ, but this model is variable-rate "
     "(qualities): train it once, every quality is in it"),
    (["configs/ablation/frozen-base.yaml", "--init-from", "elic-small-q4"],
     "the six runs are one rate point; train one run per λ"),
])  # fmt: skip
def test_a_config_taco_train_lambda_sweep_refuses_is_refused(tmp_path: Path, argv: list[str],
                                                             message: str) -> None:
    """A variable-rate model trained six bit-identical models; a frozen base from one init_from
    six runs of one rate point. Refused before any run, as taco train --lambda-sweep refuses."""
    r, runs = resolving_sweep(tmp_path, *argv, "-o", str(tmp_path / "sweep"))
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert runs == [] and not (tmp_path / "sweep").exists()
