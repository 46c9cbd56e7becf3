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
from taco.train.trainer import CHECKPOINT_FILE, STATE_FILE, Trainer


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


def test_a_python_caller_is_told_python_for_a_checkpoint_without_state(tmp_path, tiny):
    """A folder holding only a checkpoint (a GPU slice's): refused by a new run and by resume,
    with the train() call that starts from its weights, not 'taco train ... --init-from'."""
    from taco.train.state import TrainStateError

    run = tmp_path / "gpuback"
    run.mkdir()
    (run / CHECKPOINT_FILE).write_bytes(b"weights")
    cfg = load_config(None, tiny(run, max_steps=2))
    init = (f"train(load_config(CONFIG, ['init_from={run}', 'warmup_steps=100', "
            "'out_dir=NEWDIR']))")
    with pytest.raises(ConfigError) as refused:
        train(cfg)
    assert str(refused.value) == (
        f"{run} already holds a run ({CHECKPOINT_FILE}); no {STATE_FILE} to continue it from; to "
        f"train on from its weights: {init}, or choose another out_dir")
    with pytest.raises(TrainStateError) as resumed:
        train(cfg, resume=run)
    assert str(resumed.value).startswith(f"resume={str(run)!r}: it holds a checkpoint")
    assert str(resumed.value).endswith(f": {init}") and "--" not in str(resumed.value)


def test_a_python_caller_is_told_python_for_a_run_resumed_into_another(tmp_path, tiny):
    from taco.train.state import TrainStateError

    src, other = tmp_path / "src", tmp_path / "other"
    for folder in (src, other):
        folder.mkdir()
        (folder / STATE_FILE).write_bytes(b"")
    with pytest.raises(ConfigError) as refused:
        train(load_config(None, tiny(other, max_steps=2)), resume=src)
    assert str(refused.value) == (
        f"resume={str(src)!r}: {other} holds another run ({STATE_FILE}), which continuing {src} "
        f"there would overwrite; continue it in its own folder (out_dir={str(src)!r} with "
        f"resume={str(src)!r}), or give an out_dir that holds no run")
    typo = tmp_path / "typo"
    with pytest.raises(TrainStateError, match=re.escape(f"resume={str(typo)!r}: {typo} does not exist")):
        train(load_config(None, tiny(tmp_path / "new", max_steps=2)), resume=typo)


def test_a_python_callers_lines_do_not_say_taco_train(tmp_path, tiny, stop_in_step_2, capfd):
    """train() from Python: its summary, notes and the signal's announcement start 'train:',
    the command line's 'taco train:' (below) being no command a notebook ran."""
    run = tmp_path / "p"
    with pytest.raises(Interrupted):
        train(load_config(None, tiny(run, max_steps=4, ckpt_interval=4)))
    err = capfd.readouterr().err
    assert "train: preset taco, model taco-tiny" in err
    assert "train: SIGTERM: stopping after this step, with a checkpoint" in err
    assert "taco train" not in err

    stop_in_step_2()
    train(load_config(None, tiny(run, max_steps=4)), resume=run)
    err = capfd.readouterr().err
    assert "taco train" not in err and "train: preset taco" in err


def test_taco_train_keeps_its_line_prefix(tmp_path, tiny, stop_in_step_2, capfd):
    run = tmp_path / "p"
    assert taco_main(["train", "--set", *tiny(run, max_steps=4, ckpt_interval=4)]) == 128 + signal.SIGTERM
    err = capfd.readouterr().err
    assert "taco train: preset taco, model taco-tiny" in err
    assert "taco train: SIGTERM: stopping after this step, with a checkpoint" in err
