"""A run stopped by a write that fails says where ``--resume`` continues from: its training
state's step, not the checkpoint's (written after the state, it may be a step behind); and with
no state saved yet, that the run starts again from step 0 with ``--resume``. The state is written
before the checkpoint (review KR F3: a run stopped between the two first writes was left with a
checkpoint and no state, which neither ``--resume`` nor the same command could go on from)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

import taco
from taco.cli import main as taco_main
from taco.train import load_config, train
from taco.train.trainer import CHECKPOINT_FILE, STATE_FILE

ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}
REPO = Path(__file__).resolve().parents[2]


def _stopped(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [x for x in err.splitlines() if "stopped" in x]
    return line


def test_the_first_state_failing_says_there_is_nothing_to_resume(tmp_path, tiny, monkeypatch, fail_writes,
                                                                   capsys):
    out = tmp_path / "run"
    overrides = tiny(out, max_steps=2, ckpt_interval=1, **ELIC)
    fail_writes(errno.ENOSPC, nth=1, once=True, target=STATE_FILE)  # half, then a full disk
    assert taco_main(["train", "--set", *overrides]) == 3
    assert _stopped(capsys) == (
        f"taco train: stopped: cannot write {out / STATE_FILE}: No space left on device (at step 1). "
        "Stopping; no resumable state yet: free some space and run again with --resume (from step 0)."
    )
    assert not (out / CHECKPOINT_FILE).exists()  # the state comes first: no model without it

    monkeypatch.undo()
    assert taco_main(["train", "--set", *overrides, "--resume"]) == 0
    assert taco.load(out / CHECKPOINT_FILE).metadata["trained_steps"] == 2


def test_a_state_a_step_ahead_of_its_checkpoint_is_the_step_named(tmp_path, tiny, monkeypatch, fail_writes,
                                                                   capsys):
    out = tmp_path / "run"
    overrides = tiny(out, max_steps=3, ckpt_interval=1, **ELIC)
    fail_writes(errno.ENOSPC, nth=2, once=True, target=CHECKPOINT_FILE)
    assert taco_main(["train", "--set", *overrides]) == 3
    assert _stopped(capsys).endswith(
        f"Stopping; the last good checkpoint is kept: {out / CHECKPOINT_FILE} (step 1; --resume "
        "continues from step 2); free some space and continue with --resume.")

    monkeypatch.undo()
    assert taco_main(["train", "--set", *overrides, "--resume"]) == 0
    assert "resuming at step 2" in capsys.readouterr().err


def test_a_non_finite_loss_before_the_first_state_says_so(tmp_path, tiny, monkeypatch):
    from taco.losses import TacoLoss
    from taco.train import NonFiniteLossError

    forward = TacoLoss.forward

    def poisoned(self, out, x, captions=None, lmbda=None):  # noqa: ANN001, ANN202
        parts = forward(self, out, x, captions, lmbda)
        parts["loss"] = parts["loss"] * float("inf")
        return parts

    monkeypatch.setattr(TacoLoss, "forward", poisoned)
    with pytest.raises(NonFiniteLossError, match=r"Stopping; no resumable state yet: run again "
                                                  r"with resume='[^']*run' \(from step 0\)\. Try a lower lr"):
        train(load_config(None, tiny(tmp_path / "run", max_steps=2, **ELIC)))


@pytest.mark.slow
def test_a_file_size_limit_at_the_first_state(tmp_path, tiny):
    """The review's case: ``ulimit -f`` room for the checkpoint, not for the state."""
    resource = pytest.importorskip("resource")  # POSIX
    sizing = tmp_path / "sizing"
    train(load_config(None, tiny(sizing, max_steps=1, **ELIC)))
    model, state = ((sizing / name).stat().st_size for name in (CHECKPOINT_FILE, STATE_FILE))
    assert model < state
    limit = (model + state) // 2

    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "taco", "train", "--set", *tiny(out, max_steps=2, ckpt_interval=1, **ELIC)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"},
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    assert proc.returncode == 3, proc.stderr[-3000:]
    assert (f"cannot write {out / STATE_FILE}: File too large (at step 1). Stopping; no resumable "
            "state yet: ") in proc.stderr
