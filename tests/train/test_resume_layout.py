"""Resuming with another batch size or world size: the run warns, and goes on at the same place in its epoch,
counted in samples (batch_in_epoch x batch x world size), in batches of the new size."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from taco.errors import TacoWarning
from taco.train import Trainer, load_config, train
from taco.train.checkpoints import read_state, state_meta, training_set, write_state
from taco.train.config import TrainConfig
from taco.train.distributed import DistEnv
from taco.train.state import TrainProgress


def _photos(folder, n: int):
    folder.mkdir()
    rng = np.random.default_rng(n)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (72, 72, 3), dtype=np.uint8)).save(folder / f"p{i:02d}.png")
    return folder


def _cfg(tiny, out, photos, **extra):
    return load_config(None, tiny(out, preset="elic", model="elic-tiny", k_j=0, **extra)
                       + [f"data.root={photos}"])


def _resumed(tiny, out, photos, batch_size: int) -> Trainer:
    with pytest.warns(TacoWarning) as caught:
        trainer = Trainer(_cfg(tiny, out, photos, batch_size=batch_size, max_steps=10), resume=out)
    said = [str(w.message) for w in caught]
    assert any(s.startswith("resuming with another layout (batch 2 -> "
                            f"{batch_size})") for s in said), said
    return trainer


def test_a_smaller_batch_resumes_after_the_samples_already_seen(tmp_path, tiny):
    photos, out = _photos(tmp_path / "photos", 12), tmp_path / "run"
    train(_cfg(tiny, out, photos, batch_size=2, max_steps=2, ckpt_interval=2))
    trainer = _resumed(tiny, out, photos, batch_size=1)
    assert trainer.steps_per_epoch == 12
    p = trainer.progress
    assert (p.step, p.epoch, p.batch_in_epoch) == (2, 0, 4)  # 4 samples seen, batches of 1


def test_a_resumed_position_past_the_new_epoch_starts_the_next_epoch(tmp_path, tiny):
    photos, out = _photos(tmp_path / "photos", 8), tmp_path / "run"
    train(_cfg(tiny, out, photos, batch_size=2, max_steps=3, ckpt_interval=3))
    # saved: step 3, epoch 0, 3 batches of 2 (6 samples) into an epoch of 4 batches
    trainer = _resumed(tiny, out, photos, batch_size=3)
    assert trainer.steps_per_epoch == 2  # 8 // 3: 6 samples seen is 2 batches, the whole epoch
    p = trainer.progress
    assert (p.step, p.epoch, p.batch_in_epoch) == (3, 1, 0)


def test_a_state_from_four_processes_resumed_on_one_continues_after_the_images_seen(tmp_path):
    cfg, model = TrainConfig(batch_size=4), torch.nn.Linear(1, 1)
    files = training_set(["a.png", "b.png"])
    saved = TrainProgress(step=10, epoch=0, batch_in_epoch=10, wall_time_s=1.0)
    meta = state_meta(cfg, saved, DistEnv(world_size=4), 25, False, stream_seed=0, init_from=None,
                      train_set=files)
    rng = {"torch": torch.get_rng_state().repeat(4, 1)}  # one row per process
    path = write_state(tmp_path, model, {"optim": None, "aux_optim": None}, rng, meta)
    with pytest.warns(TacoWarning, match="world size 4 -> 1"):
        p = read_state(path, cfg, model, {"optim": None, "aux_optim": None}, DistEnv(), 100,
                       torch.device("cpu"), seed=0, train_set=files)
    # 10 batches of 4 on each of 4 processes: 160 images, 40 batches of 4 on one
    assert (p.step, p.epoch, p.batch_in_epoch) == (10, 0, 40)
