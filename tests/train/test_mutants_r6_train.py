"""Mutation round 6 (taco.train.config, checkpoints, schedule): behaviour a user gets that no
test pinned: the resumed position across world sizes, config checks at their exact bounds and
spellings, which config changes a resume warns about, and the warm-up learning rate's ends."""

from __future__ import annotations

import warnings

import pytest
import torch

from taco.errors import TacoWarning
from taco.train.checkpoints import (
    check_resumed_config,
    read_state,
    state_meta,
    training_set,
    write_state,
)
from taco.train.config import ConfigError, TrainConfig, load_config, parse_duration
from taco.train.distributed import DistEnv
from taco.train.schedule import lr_at
from taco.train.state import TrainProgress


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


@pytest.mark.parametrize("key", ["k_p", "beta", "clip_grad"])
def test_an_infinite_loss_weight_or_clip_is_refused_as_not_finite(key):
    with pytest.raises(ConfigError, match=f"^{key} must be a finite number >= 0, got inf$"):
        load_config(None, [f"{key}=.inf"])


def test_a_crop_that_is_a_multiple_of_32_but_not_64_is_refused():
    with pytest.raises(ConfigError, match="crop must be a multiple of 64"):
        load_config(None, ["crop=96"])


def test_a_huge_negative_integer_is_a_config_error_not_an_overflow():
    with pytest.raises(ConfigError, match="lr is too large a number"):
        load_config(None, ["lr=-1" + "0" * 400])


@pytest.mark.parametrize(("text", "seconds"), [("1H30M", 5400.0), ("8M", 480.0), ("90S", 90.0)])
def test_a_duration_in_upper_case_units_reads_as_in_lower_case(text, seconds):
    assert parse_duration(text, "time_limit") == seconds
    assert load_config(None, [f"time_limit={text}"]).time_limit == text


@pytest.mark.parametrize("override", ["=5", " =5"])
def test_an_override_without_a_key_is_said_to_be_not_key_value(override):
    with pytest.raises(ConfigError, match=f"^override '{override}' is not key=value$"):
        load_config(None, [override])


def _resume_warnings(cfg: TrainConfig, saved: dict) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_resumed_config(cfg, saved, "runs/x/train_state.safetensors")
    return [str(w.message) for w in caught]


def test_resuming_with_another_time_limit_is_no_different_configuration():
    assert _resume_warnings(TrainConfig(time_limit="20m"), TrainConfig(time_limit="8m").to_dict()) == []


def test_a_state_from_before_newer_keys_resumes_without_a_warning():
    saved = TrainConfig().to_dict()
    for key in ("warmup_steps", "fused_adam", "lpips_input"):  # keys added since: at defaults
        del saved[key]
    assert _resume_warnings(TrainConfig(), saved) == []
    # a key that is there and differs is still said
    changed = {**TrainConfig().to_dict(), "k_p": 2.0}
    assert any("different configuration (k_p)" in s for s in _resume_warnings(TrainConfig(), changed))


def test_the_warm_up_starts_above_zero_and_ends_exactly_at_lr():
    cfg = TrainConfig(warmup_steps=100)
    assert lr_at(cfg, 0, 0) == pytest.approx(cfg.lr / 100)  # step 0 trains: not lr 0
    assert lr_at(cfg, 0, 99) == pytest.approx(cfg.lr)
    assert lr_at(cfg, 0, 100) == cfg.lr  # the warm-up's end: never above lr
    assert lr_at(cfg, 0, 101) == cfg.lr
