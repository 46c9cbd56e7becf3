"""A training state whose progress.batch_in_epoch is not below its steps_per_epoch (hand-edited:
5 in a run of 1 step per epoch) was resumed: its epoch's batches started past the last one, so
every pass drew none, and ``taco train --resume RUN`` looped for ever without a step (deaf to
SIGTERM, which stops after a step). Such a state is refused now, as a corrupt one.

progress.step is not checked against epoch x steps_per_epoch + batch_in_epoch: a resume with
another layout (world size, batch, training set) keeps the step and rescales the position in
the epoch, so the sum does not hold for such a run's later states."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from taco.train.state import TrainStateError, load_train_state_meta, save_train_state


def _meta(**progress):
    numpy_state = np.random.RandomState(0).get_state()
    return {
        "progress": {"step": 2, "epoch": 2, "batch_in_epoch": 0, "wall_time_s": 1.0, **progress},
        "world_size": 1, "batch_size": 2, "steps_per_epoch": 1,
        "optimizer": [], "aux_optimizer": [],
        "rng": {"python": list(random.Random(0).getstate()),
                "numpy": [numpy_state[0], numpy_state[1].tolist(), *numpy_state[2:]]},
        "config": {}, "init_from": None,
    }


def test_a_state_within_its_epoch_is_read(tmp_path):
    path = save_train_state(tmp_path / "train_state.safetensors", {"x": torch.zeros(1)}, _meta())
    assert load_train_state_meta(path)["progress"]["batch_in_epoch"] == 0


@pytest.mark.parametrize("position", [1, 5])
def test_a_position_past_the_epoch_is_refused(tmp_path, position):
    path = save_train_state(tmp_path / "train_state.safetensors", {"x": torch.zeros(1)},
                            _meta(batch_in_epoch=position))
    with pytest.raises(TrainStateError) as info:
        load_train_state_meta(path)
    assert str(info.value) == (f"{path}: corrupt training state (progress.batch_in_epoch is {position}, "
                               "not below steps_per_epoch (1))")
