"""A run stopped at a checkpoint step wrote that checkpoint twice: the interval save
of step 2, then the final save of step 2 again (the same content), which could overrun
--time-limit by one checkpoint write (the budget's shared checks count no second one). The stop
now writes no second save of the step just saved; a stop at another step still saves, and the
run resumed from either continues as an unbroken one."""

from __future__ import annotations

import os
import signal

import pytest
import torch
from safetensors.torch import load_file

from taco.errors import Interrupted
from taco.train import load_config, train, trainer as trainer_module
from taco.train.trainer import Trainer


@pytest.mark.parametrize("stop_at, saves", [(2, 1), (3, 2)])  # ckpt_interval 2
def test_a_stop_at_a_checkpoint_step_writes_it_once(tmp_path, tiny, monkeypatch, stop_at, saves):
    writes: list[tuple[str, int]] = []
    real_state, real_ckpt = trainer_module.write_state, trainer_module.write_checkpoint

    def write_state(out_dir, model, optimizers, rng, meta):
        writes.append(("state", meta["progress"]["step"]))
        return real_state(out_dir, model, optimizers, rng, meta)

    def write_checkpoint(model, out_dir, meta, **kw):
        writes.append(("checkpoint", meta["trained_steps"]))
        return real_ckpt(model, out_dir, meta, **kw)

    real_step = Trainer.train_step

    def train_step(self, batch):
        if self.progress.step == stop_at - 1:  # asked to stop during step stop_at
            os.kill(os.getpid(), signal.SIGTERM)
        return real_step(self, batch)

    monkeypatch.setattr(trainer_module, "write_state", write_state)
    monkeypatch.setattr(trainer_module, "write_checkpoint", write_checkpoint)
    monkeypatch.setattr(Trainer, "train_step", train_step)
    run = tmp_path / "run"
    with pytest.raises(Interrupted, match=f"at step {stop_at} "):
        train(load_config(None, tiny(run, max_steps=4)))
    expected = [("state", 2), ("checkpoint", 2)] + ([("state", 3), ("checkpoint", 3)] if stop_at == 3 else [])
    assert writes == expected and len(writes) == 2 * saves

    monkeypatch.setattr(Trainer, "train_step", real_step)
    resumed = train(load_config(None, tiny(run, max_steps=4)), resume=run)
    assert (resumed.stopped, resumed.step) == ("done", 4)
    whole = tmp_path / "whole"
    train(load_config(None, tiny(whole, max_steps=4)))
    a, b = load_file(run / "train_state.safetensors"), load_file(whole / "train_state.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
