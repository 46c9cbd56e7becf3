"""``TrainConfig.validate`` reports the first problem in a fixed order, each in its own words
(review SIMPLE2 merged the "positive" and ">= 0" loops, warmup_steps and the two crop checks):
every positive key before every ">= 0" key, warmup_steps last of those, then the multiples
of the codec's padding, crop's with "(the codec's padding)" and val.crop's without, then
the path keys."""

from __future__ import annotations

import pytest

from taco.train.config import ConfigError, TrainConfig, ValConfig


def _first(**kw) -> tuple[str, str | None]:  # noqa: ANN003
    val = kw.pop("val", {})
    with pytest.raises(ConfigError) as err:
        TrainConfig(**kw, val=ValConfig(**val)).validate()
    return str(err.value), err.value.key


@pytest.mark.parametrize(("kw", "message", "key"), [
    ({"lmbda": float("inf")}, "lmbda must be a finite number > 0, got inf", "lmbda"),
    ({"batch_size": 0}, "batch_size must be positive, got 0", "batch_size"),
    ({"val": {"crop": 0}}, "val.crop must be positive, got 0", "val.crop"),
    ({"beta": float("nan")}, "beta must be a finite number >= 0, got nan", "beta"),
    ({"workers": -1}, "workers must be >= 0, got -1", "workers"),
    ({"val": {"compress_images": -2}}, "val.compress_images must be >= 0, got -2",
     "val.compress_images"),
    ({"warmup_steps": -1}, "warmup_steps must be >= 0, got -1", "warmup_steps"),
    ({"crop": 65}, "crop must be a multiple of 64 (the codec's padding), got 65", "crop"),
    ({"val": {"crop": 96}}, "val.crop must be a multiple of 64, got 96", "val.crop"),
    ({"out_dir": ""}, "out_dir: empty: give a path or name (the current folder is .)", "out_dir"),
    ({"init_from": "a\0b"}, "init_from: the path holds a null byte (character 2), which no file "
     "name can", "init_from"),
])
def test_each_message(kw, message, key):
    assert _first(**kw) == (message, key)


@pytest.mark.parametrize(("kw", "key"), [
    # a positive key before a ">= 0" one, whichever comes first in the dataclass
    ({"val": {"interval": 0}, "k_p": -1.0}, "val.interval"),
    ({"lmbda": -1.0, "workers": -1, "warmup_steps": -1}, "lmbda"),
    ({"val": {"compress_images": -1}, "warmup_steps": -1}, "val.compress_images"),
    ({"warmup_steps": -1, "max_steps": 0, "crop": 65}, "warmup_steps"),
    ({"crop": 65, "val": {"crop": 96}}, "crop"),
    ({"val": {"crop": 96}, "lr_milestones": [2, 1], "out_dir": ""}, "val.crop"),
    ({"seed": -1, "out_dir": ""}, "seed"),
    ({"out_dir": "", "init_from": ""}, "out_dir"),
])
def test_the_first_problem_is_reported(kw, key):
    assert _first(**kw)[1] == key


def test_a_valid_config_is_returned():
    config = TrainConfig(warmup_steps=0, workers=0, k_p=0.0)
    assert config.validate() is config
