"""A :meth:`taco.train.Trainer.batches` generator taken before :meth:`~taco.train.Trainer.close`
(which ends the persistent DataLoader workers and makes a fresh loader) says so when drawn from
after it, instead of ending the epoch silently; a new ``batches()`` goes on."""

from __future__ import annotations

import pytest

from taco.errors import TacoError
from taco.train import Trainer, load_config
from taco.train.trainer import TrainerClosed


def test_a_generator_held_across_close_raises_and_a_new_one_draws(tmp_path, tiny):
    trainer = Trainer(load_config(None, tiny(tmp_path / "run", workers=2, model="elic-tiny",
                                             preset="elic", k_j=0)))
    try:
        held = trainer.batches()
        assert len(next(held).names) == 2
        trainer.close()
        with pytest.raises(TrainerClosed, match=r"Trainer.close\(\).*call batches\(\) again"):
            next(held)
        assert issubclass(TrainerClosed, TacoError) and issubclass(TrainerClosed, RuntimeError)
        assert [len(b.names) for b in trainer.batches()] == [2, 2]  # the 4 sample photos
    finally:
        trainer.close()
