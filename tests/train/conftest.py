"""Shared helpers for the training tests: tiny models, the bundled sample photos, and the GPU
slice scripts (scripts/gpu_slice.sh with a stand-in Python, scratch git checkouts)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from taco.samples import SAMPLES_DIR as SAMPLES


@pytest.fixture
def samples() -> Path:
    """The 4 captioned photos shipped with taco (captions.jsonl beside them)."""
    return SAMPLES


@pytest.fixture(scope="session")
def tiny():
    """``tiny(out_dir, **extra)`` -> ``key=value`` overrides for a few-second taco-tiny run."""
    return tiny_overrides


def tiny_overrides(out_dir: Path, **extra: object) -> list[str]:
    """``key=value`` overrides for a few-second run of taco-tiny on the 4 sample photos."""
    values: dict[str, object] = {
        "model": "taco-tiny",
        "data.root": SAMPLES,
        "crop": 64,
        "batch_size": 2,
        "workers": 0,
        "k_j": 0.0025,
        "clip_model": "tiny",
        "log_interval": 1,
        "ckpt_interval": 2,
        "progress": "false",
        "out_dir": out_dir,
    }
    values.update(extra)
    return [f"{k}={v}" for k, v in values.items()]


@pytest.fixture
def one_step_elic_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A finished 1-step elic-tiny run made by ``taco train`` in ``tmp_path / "run"`` (its
    state, checkpoint, config.yaml and log.jsonl)."""
    from taco.cli import main as taco_main

    folder = tmp_path / "run"
    elic = {"preset": "elic", "model": "elic-tiny", "k_j": 0, "clip_model": "null"}
    assert taco_main(["train", "--set", *tiny_overrides(folder, **elic), "--max-steps", "1"]) == 0
    capsys.readouterr()
    return folder


ROOT = Path(__file__).resolve().parents[2]

#: The stand-in Python for scripts/gpu_slice.sh: the benchmarks write their --json file,
#: scripts/gpu_slice.py is the real one; ``{before}`` are shell lines run first at each call.
GPU_SLICE_PY = """#!/usr/bin/env bash
{before}case "$1" in
    benchmarks/*)
        while [ $# -gt 0 ]; do [ "$1" = --json ] && echo '{{"variants": []}}' > "$2"; shift; done;;
    scripts/gpu_slice.py) shift; exec "$REAL_PY" "$REPO/scripts/gpu_slice.py" "$@";;
esac
exit 0
"""


@pytest.fixture
def gpu_slice(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``gpu_slice(before="", **env)`` runs scripts/gpu_slice.sh in tmp_path with the stand-in
    Python (tmp_path/python, ``before`` its first shell lines), OUT=tmp_path/out and
    TMPDIR=tmp_path/tmp (made empty); TORCHINDUCTOR_CACHE_DIR and RUN only as ``env`` gives them."""

    def run(before: str = "", **env: str) -> subprocess.CompletedProcess[str]:
        stub = tmp_path / "python"
        stub.write_text(GPU_SLICE_PY.format(before=before))
        stub.chmod(0o755)
        (tmp_path / "tmp").mkdir()
        run_env = {k: v for k, v in os.environ.items() if k not in ("TORCHINDUCTOR_CACHE_DIR", "RUN")}
        run_env.update({"PY": str(stub), "REAL_PY": sys.executable, "REPO": str(ROOT),
                        "OUT": str(tmp_path / "out"), "TMPDIR": str(tmp_path / "tmp"), **env})  # fmt: skip
        return subprocess.run(["bash", str(ROOT / "scripts" / "gpu_slice.sh")], cwd=tmp_path, env=run_env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    return run


def sparse_file(path: Path, mib: float) -> None:
    """A file of MIB MiB that takes no disk (its folders made): sizes for gpu_slice.py travel."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.truncate(int(mib * 2**20))


def run_git(repo: Path, *args: str) -> None:
    """``git ARGS`` in REPO as user t, checked, its output kept quiet."""
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo,
                   check=True, capture_output=True)  # fmt: skip


@pytest.fixture(scope="session")
def sparse() -> Callable[[Path, float], None]:
    """``sparse(path, mib)``: a file of MIB MiB that takes no disk (its folders made)."""
    return sparse_file


@pytest.fixture(scope="session")
def git() -> Callable[..., None]:
    """``git(repo, *args)``: ``git ARGS`` in REPO as user t, checked, quietly."""
    return run_git
