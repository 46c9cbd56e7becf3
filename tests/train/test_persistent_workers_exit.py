"""A Trainer's DataLoader workers are kept across epochs (persistent) and end when
:meth:`taco.train.Trainer.fit` ends, however it ends: a script still holding its Trainer when
Python exits used to wait for them for ever (Python's exit sends each worker one SIGTERM, which
a worker leaves to the run: taco.train.schedule.worker_signals); one that drew batches without
fitting or closing the Trainer has them ended at its exit."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# the Trainer stays referenced at module level until Python exits; with "signal", a SIGTERM
# comes in the middle of the first epoch (after its first step, of two); with "batches", the
# script draws a batch (the workers start) and exits, neither fitting nor closing the Trainer
SCRIPT = textwrap.dedent("""
    import multiprocessing, os, signal, sys
    from taco.errors import Interrupted
    from taco.train import Trainer, load_config

    trainer = Trainer(load_config(None, sys.argv[2:]))
    assert trainer.loader is not None and trainer.loader.persistent_workers
    if sys.argv[1] == "signal":
        step = trainer.train_step
        def train_step(batch):
            os.kill(os.getpid(), signal.SIGTERM)
            return step(batch)
        trainer.train_step = train_step
    if sys.argv[1] == "batches":  # drawn as benchmarks/train_throughput.py does: no fit, no close
        batches = trainer.batches()
        print("batches", len(next(batches).names), flush=True)
        sys.exit()
    try:
        result = trainer.fit()
        print("fit", result.stopped, result.step, flush=True)
    except Interrupted as e:
        print("interrupted", e.signum, trainer.progress.step, flush=True)
    print("workers left", len(multiprocessing.active_children()), flush=True)
""")


@pytest.mark.parametrize(("how", "said"), [("done", ["fit done 4", "workers left 0"]),
                                           ("signal", ["interrupted 15 1", "workers left 0"]),
                                           ("batches", ["batches 2"])])
def test_a_script_holding_its_trainer_exits_after_fit_with_persistent_workers(tmp_path, tiny, how,
                                                                             said):
    overrides = tiny(tmp_path / "run", workers=2, epochs=2, model="elic-tiny",
                               preset="elic", k_j=0, ckpt_interval=100)
    try:
        proc = subprocess.run([sys.executable, "-c", SCRIPT, how, *overrides], cwd=REPO,
                              capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"did not exit after fit: {e.stdout!r} {e.stderr!r}")
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout.splitlines() == said, proc.stderr[-4000:]
    assert "Traceback" not in proc.stderr and "DataLoader worker" not in proc.stderr
    if how == "signal":
        # train() called from Python: its lines start train: (the CLI's taco train:)
        assert f"\ntrain: {signal.Signals.SIGTERM.name}: stopping after this step" in f"\n{proc.stderr}"
