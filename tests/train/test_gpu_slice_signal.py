"""scripts/gpu_slice.sh stopped by SIGTERM (the device tool's timeout signals the whole process
group) brings back the trainer's final checkpoint: the trainer catches TERM and saves, but bash died
on the same signal before syncing it, and OUT kept the last periodic one (700 steps apart on the
GPU). And it says the step that works next: it passed on the trainer's last words, "go on with taco
train --resume /tmp/slice.XXXX/run", a folder on the GPU machine, given back right after. Run with
a stand-in Python: the trainer writes a periodic checkpoint, and its final one on TERM; sync is the
real one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gpu_slice.sh"

STUB = """#!/usr/bin/env bash
case "$1" in
    -m)
        while [ $# -gt 0 ]; do [ "$1" = --out-dir ] && run=$2; shift; done
        mkdir -p "$run"
        echo periodic > "$run/checkpoint.safetensors"
        trap 'sleep 0.5; echo final > "$run/checkpoint.safetensors"
              echo "taco train: stopped by SIGTERM at step 7 (1.75 epochs); the model and state are saved in $run: go on with taco train --resume $run"
              exit 143' TERM
        while true; do sleep 0.1; done;;
    scripts/gpu_slice.py) shift; exec "$REAL_PY" "$REPO/scripts/gpu_slice.py" "$@";;
esac
exit 0
"""


def test_a_slice_stopped_by_sigterm_brings_back_the_final_checkpoint_and_says_how_to_go_on(tmp_path):
    stub = tmp_path / "python"
    stub.write_text(STUB)
    stub.chmod(0o755)
    out = tmp_path / "out"
    env = {**os.environ, "PY": str(stub), "REAL_PY": sys.executable, "REPO": str(ROOT),
           "OUT": str(out), "RUN": str(tmp_path / "slice" / "run"), "TORCHINDUCTOR_CACHE_DIR":
           str(tmp_path / "inductor"), "BENCH": "0", "TRAIN_TIME": "300s", "SYNC_EVERY": "1"}  # fmt: skip
    proc = subprocess.Popen(["bash", str(SCRIPT)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
    try:
        synced = out / "ckpt" / "checkpoint.safetensors"
        deadline = time.monotonic() + 60
        while not synced.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert synced.read_text() == "periodic\n"
        os.killpg(proc.pid, signal.SIGTERM)  # what `timeout -s TERM` of the device tool does
        stdout, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 143, stdout
    assert "waiting for the trainer's final checkpoint" in stdout
    assert synced.read_text() == "final\n"
    assert "--resume" not in stdout, stdout
    assert "taco train: stopped by SIGTERM at step 7 (1.75 epochs)\n" in stdout
    assert (" ".join(stdout.split()).endswith(
        "INIT=<files_at>/ckpt/checkpoint.safetensors bash scripts/gpu_slice_prepare.sh, then BENCH=0 "
        "bash scripts/gpu_slice.sh (docs/training.md)")), stdout  # fmt: skip
