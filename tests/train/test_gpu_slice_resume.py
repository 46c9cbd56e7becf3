"""scripts/gpu_slice.sh with RESUME_FROM: a folder whose copy failed (missing, or the OUT a slice
brought back, with ckpt/ and state/ subfolders that `cp DIR/*` did not copy) trained from scratch
without --resume and without a word. Now a missing folder, or one without checkpoint and state,
stops the slice before training, and the OUT layout is resumed. Run with a stand-in Python: the
trainer records its arguments and what its run folder holds; sync and report are the real ones."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gpu_slice.sh"

STUB = """#!/usr/bin/env bash
case "$1" in
    -m)
        echo "$@" > "$TRAINED"
        while [ $# -gt 0 ]; do [ "$1" = --out-dir ] && ls "$2" >> "$TRAINED"; shift; done;;
    scripts/gpu_slice.py) shift; exec "$REAL_PY" "$REPO/scripts/gpu_slice.py" "$@";;
esac
exit 0
"""


def _slice(tmp_path: Path, resume_from: Path) -> subprocess.CompletedProcess[str]:
    stub = tmp_path / "python"
    stub.write_text(STUB)
    stub.chmod(0o755)
    env = {**os.environ, "PY": str(stub), "REAL_PY": sys.executable, "REPO": str(ROOT),
           "OUT": str(tmp_path / "out"), "RUN": str(tmp_path / "slice" / "run"),
           "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "inductor"), "TRAINED": str(tmp_path / "trained"),
           "BENCH": "0", "TRAIN_TIME": "10s", "RESUME_FROM": str(resume_from)}  # fmt: skip
    return subprocess.run(["bash", str(SCRIPT)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def test_a_missing_resume_from_stops_the_slice_before_training(tmp_path):
    result = _slice(tmp_path, tmp_path / "nothing")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"RESUME_FROM={tmp_path / 'nothing'} is no folder" in result.stdout
    assert not (tmp_path / "trained").exists()


def test_a_resume_from_without_the_training_state_says_what_it_needs(tmp_path):
    (tmp_path / "back" / "ckpt").mkdir(parents=True)
    (tmp_path / "back" / "ckpt" / "checkpoint.safetensors").write_text("weights")
    result = _slice(tmp_path, tmp_path / "back")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "holds no run to resume" in result.stdout and "INIT_FROM=" in result.stdout
    assert not (tmp_path / "trained").exists()


def test_the_out_folder_a_slice_brought_back_is_resumed(tmp_path):
    back = tmp_path / "back"
    (back / "ckpt").mkdir(parents=True)
    (back / "state").mkdir()
    (back / "ckpt" / "checkpoint.safetensors.index.json").write_text("{}")
    (back / "state" / "train_state.safetensors").write_text("state")
    bundle = io.BytesIO()
    with tarfile.open(fileobj=bundle, mode="w:gz") as tar:
        for name in ("log.jsonl", "config.yaml"):
            info = tarfile.TarInfo(name)
            tar.addfile(info, io.BytesIO(b""))
    (back / "run.tar.gz").write_bytes(bundle.getvalue())
    result = _slice(tmp_path, back)
    assert result.returncode == 0, result.stdout + result.stderr
    args, *held = (tmp_path / "trained").read_text().splitlines()
    assert f"--resume {tmp_path / 'slice' / 'run'}" in args
    assert sorted(held) == ["checkpoint.safetensors.index.json", "config.yaml", "log.jsonl",
                            "train_state.safetensors"]  # fmt: skip
