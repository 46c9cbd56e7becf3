"""Resuming with another batch size: the run warns, and goes on at the same place in its epoch,
counted in samples (batch_in_epoch x batch x world size), in batches of the new size."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from taco.errors import TacoWarning
from taco.train import Trainer, load_config, train


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
