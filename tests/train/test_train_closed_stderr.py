"""``taco train`` whose stderr's reader has gone (``taco train ... 2>&1 >log | head -1``) stopped
with status 141 at its first line (the run's start), having written only config.yaml and the
log, though stderr carries no data: its lines now go nowhere and the run goes on (review K)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from taco.cli import main as taco_main

ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}  # no text encoder: the fastest run
REPO = Path(__file__).resolve().parents[2]
FILES = ["checkpoint.safetensors", "config.yaml", "log.jsonl", "train_state.safetensors"]


def test_a_run_goes_on_when_stderr_is_a_closed_pipe(tmp_path, tiny, monkeypatch):
    out = tmp_path / "run"
    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "w", buffering=1) as stream:  # line-buffered, as stderr is
        monkeypatch.setattr(sys, "stderr", stream)
        assert taco_main(["train", "--set", *tiny(out, **ELIC), "--max-steps", "1"]) == 0
        assert os.path.samestat(os.fstat(stream.fileno()), os.stat(os.devnull))
    assert sorted(p.name for p in out.iterdir()) == FILES


@pytest.mark.slow
def test_a_run_goes_on_when_stderrs_reader_has_gone(tmp_path, tiny):
    """The same through the command in its own process (~5 s)."""
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p),
           "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    with subprocess.Popen([sys.executable, "-m", "taco", "train", "--set", *tiny(out, **ELIC), "--max-steps", "1"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env) as proc:
        assert proc.stderr is not None and proc.stdout is not None
        proc.stderr.close()  # the reader is gone before the run's first line
        stdout = proc.stdout.read().decode()
    assert proc.returncode == 0, stdout
    assert sorted(p.name for p in out.iterdir()) == FILES
