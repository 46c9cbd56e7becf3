"""Resuming on a changed training folder: the run says the set changed (not a layout that did
not), and a layout warning names only what changed."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

from taco.errors import TacoWarning
from taco.train import Trainer, load_config, train
from taco.train.checkpoints import layout_changes

CHANGED = "the training set changed since the state was saved"


def _photos(folder, n: int, start: int = 0):
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(n + start)
    for i in range(start, start + n):
        Image.fromarray(rng.integers(0, 256, (72, 72, 3), dtype=np.uint8)).save(folder / f"p{i:02d}.png")
    return folder


def _cfg(tiny, out, photos, **extra):
    return load_config(None, tiny(out, preset="elic", model="elic-tiny", k_j=0, **extra)
                       + [f"data.root={photos}"])


def _resume_warnings(tiny, out, photos, **extra) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Trainer(_cfg(tiny, out, photos, max_steps=10, **extra), resume=out).close()
    return [str(w.message) for w in caught if issubclass(w.category, TacoWarning)]


@pytest.mark.parametrize("added, said", [(1, "(6 -> 7 images)"), (2, "(6 -> 8 images)")])
def test_a_grown_folder_is_said_as_a_changed_training_set(tmp_path, tiny, added, said):
    photos, out = _photos(tmp_path / "photos", 6), tmp_path / "run"
    train(_cfg(tiny, out, photos, batch_size=2, max_steps=2, ckpt_interval=2))
    _photos(photos, added, start=6)  # 7 images: still 3 steps/epoch; 8: 4
    said_now = _resume_warnings(tiny, out, photos, batch_size=2)
    assert f"{CHANGED} {said}: continuing from the same step, but not bit-exactly" in said_now
    assert not any("another layout" in s for s in said_now), said_now


def test_the_same_folder_resumes_without_a_warning(tmp_path, tiny):
    photos, out = _photos(tmp_path / "photos", 6), tmp_path / "run"
    train(_cfg(tiny, out, photos, batch_size=2, max_steps=2, ckpt_interval=2))
    said = _resume_warnings(tiny, out, photos, batch_size=2)
    assert not any("continuing from the same step" in s for s in said), said


def test_a_layout_warning_names_only_what_changed():
    meta = {"world_size": 1, "batch_size": 2, "steps_per_epoch": 3,
            "train_set": {"images": 6, "digest": "a"}}
    assert layout_changes(meta, 1, 1, 6, {"images": 6, "digest": "a"}) == [
        "resuming with another layout (batch 2 -> 1)"]
    assert layout_changes(meta, 1, 2, 3, {"images": 6, "digest": "b"}) == [
        f"{CHANGED} (other files, 6 images)"]
    assert layout_changes(meta, 1, 2, 3, {"images": 6, "digest": "a"}) == []


def test_a_state_saved_before_the_set_was_recorded_resumes_as_before():
    old = {"world_size": 1, "batch_size": 2, "steps_per_epoch": 3}  # no "train_set"
    assert layout_changes(old, 1, 2, 3, {"images": 7, "digest": "b"}) == []
    assert layout_changes(old, 1, 2, 4, {"images": 8, "digest": "b"}) == [
        f"{CHANGED} (3 -> 4 steps per epoch)"]
