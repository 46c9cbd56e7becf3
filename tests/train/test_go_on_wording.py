"""How a run says to continue it speaks its caller's language: ``train(cfg)`` called from Python
(a notebook cell stopped by Ctrl-C, then run again) was told ``go on with taco train --resume
runs/p`` and ``pass --resume to continue it``, command-line words. From Python it now says
``train(cfg, resume='runs/p')`` and ``resume='runs/p'``; ``taco train`` keeps its own wording."""

from __future__ import annotations

import os
import re
import signal
import traceback

import pytest

from taco.cli import main as taco_main
from taco.errors import Interrupted
from taco.train import ConfigError, load_config, train
from taco.train.trainer import STATE_FILE, Trainer


@pytest.fixture
def stop_in_step_2(monkeypatch):
    """SIGTERM to this process during the run's second step (it stops after that step)."""
    real_step = Trainer.train_step

    def train_step(self, batch):  # noqa: ANN001, ANN202
        if self.progress.step == 1:
            os.kill(os.getpid(), signal.SIGTERM)
        return real_step(self, batch)

    monkeypatch.setattr(Trainer, "train_step", train_step)
    return lambda: monkeypatch.setattr(Trainer, "train_step", real_step)


def test_a_python_caller_is_told_the_python_way_on(tmp_path, tiny, stop_in_step_2):
    run = tmp_path / "p"
    cfg = load_config(None, tiny(run, max_steps=4, ckpt_interval=4))
    with pytest.raises(Interrupted) as raised:
        train(cfg)
    go_on = f"go on with train(cfg, resume={str(run)!r})"
    assert raised.value.progress == (
        f" at step 2 (1.00 epochs); the model and state are saved in {run}: {go_on}")
    # the traceback's last line (a notebook shows it): one readable line, not the args tuple
    assert traceback.format_exception_only(raised.value)[-1] == (
        f"taco.distributed.StoppedTogether: stopped by SIGTERM{raised.value.progress}\n")
    assert "taco train" not in str(raised.value)

    stop_in_step_2()  # the cell run again, as it was
    with pytest.raises(ConfigError) as refused:
        train(cfg)
    assert str(refused.value) == (f"{run} already holds a run ({STATE_FILE}); pass "
                                  f"resume={str(run)!r} to continue it, or choose another out_dir")
    assert train(cfg, resume=str(run)).step == 4  # what it said goes on


def test_a_python_caller_is_told_resume_for_a_file_a_new_run_would_overwrite(tmp_path, tiny):
    run = tmp_path / "proj"
    run.mkdir()
    (run / "log.jsonl").write_text("")
    with pytest.raises(ConfigError, match=re.escape(f"or pass resume={str(run)!r} to start that run "
                                                    "again there")):
        Trainer(load_config(None, tiny(run, max_steps=2)))


def test_taco_train_keeps_its_command_line_wording(tmp_path, tiny, stop_in_step_2, capsys):
    run = tmp_path / "p"
    argv = ["train", "--set", *tiny(run, max_steps=4, ckpt_interval=4)]
    assert taco_main(argv) == 128 + signal.SIGTERM
    err = capsys.readouterr().err
    assert (f"taco train: stopped by SIGTERM at step 2 (1.00 epochs); the model and state are "
            f"saved in {run}: go on with taco train --resume {run}\n") in err
    stop_in_step_2()
    assert taco_main(argv) == 2
    assert capsys.readouterr().err == (
        f"taco train: error: {run} already holds a run ({STATE_FILE}); pass --resume to continue "
        "it, or choose another out_dir\n")
