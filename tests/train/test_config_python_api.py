"""A TrainConfig built in Python (review H): Trainer/train() check it before anything is written
in out_dir (log_interval=0 was a bare ZeroDivisionError and crop=65 failed in the forward, after
config.yaml and log.jsonl were written, so a corrected run there was refused); validate() takes a
pathlib.Path for the path keys (stored as str), and a value of the wrong type or a section given
as a mapping is a ConfigError naming the key (a TypeError, an AttributeError)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from taco.samples import SAMPLES_DIR
from taco.train import ConfigError, DataConfig, TrainConfig, Trainer, ValConfig, train


def _cfg(out: Path, **extra: object) -> TrainConfig:
    values: dict = dict(preset="elic", model="elic-tiny", k_j=0.0, crop=64, batch_size=2, workers=0,
                        max_steps=1, progress=False, out_dir=str(out),
                        data=DataConfig(root=str(SAMPLES_DIR)))
    return TrainConfig(**{**values, **extra})


@pytest.mark.parametrize(("extra", "message"), [
    ({"log_interval": 0}, "log_interval must be positive, got 0"),
    ({"ckpt_interval": 0}, "ckpt_interval must be positive, got 0"),
    ({"crop": 65}, "crop must be a multiple of 64"),
])
def test_trainer_checks_the_config_before_it_touches_out_dir(tmp_path, extra, message):
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match=message):
        train(_cfg(out, **extra))
    with pytest.raises(ConfigError, match=message):
        Trainer(_cfg(out, **extra))
    assert not out.exists()


def test_path_keys_take_a_pathlib_path_stored_as_str(tmp_path):
    cfg = _cfg(tmp_path / "run", out_dir=tmp_path / "run",
               data=DataConfig(root=SAMPLES_DIR), val=ValConfig(root=Path(SAMPLES_DIR)))
    assert cfg.validate() is cfg
    assert (cfg.out_dir, cfg.data.root, cfg.val.root) == (
        str(tmp_path / "run"), str(SAMPLES_DIR), str(SAMPLES_DIR))
    assert cfg.validate().to_dict() == cfg.to_dict()  # idempotent


def test_numpy_numbers_and_tuples_are_taken_as_python_ones():
    cfg = TrainConfig(batch_size=np.int64(2), lr=np.float32(1e-4), lr_milestones=(2, 3)).validate()
    assert type(cfg.batch_size) is int and type(cfg.lr) is float
    assert cfg.lr_milestones == [2, 3]
    cfg = TrainConfig(lr_milestones=[np.int64(45), np.int64(48)], qualities=np.array([1e-3, 4e-3]).tolist(),
                      progress=np.True_).validate()  # items of a list, a NumPy bool: as Python's
    assert cfg.lr_milestones == [45, 48] and type(cfg.lr_milestones[0]) is int
    assert cfg.progress is True


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"lr": "x"}, "lr must be float, got 'x'"),
    ({"crop": 64.5}, "crop must be int, got 64.5"),
    ({"progress": "no"}, "progress must be bool, got 'no'"),
    ({"data": DataConfig(root=3j)}, "data.root must be"),
    ({"val": ValConfig(interval="10")}, "val.interval must be int"),
])
def test_a_wrong_type_is_a_config_error_naming_the_key(kwargs, message):
    with pytest.raises(ConfigError, match=message) as e:
        TrainConfig(**kwargs).validate()
    assert e.value.key == message.split()[0]


@pytest.mark.parametrize("section", ["data", "val"])
def test_a_section_given_as_a_mapping_is_a_config_error(section):
    with pytest.raises(ConfigError, match=rf"{section} must be a (Data|Val)Config, got \{{'root'"):
        TrainConfig(**{section: {"root": "/tmp"}}).validate()
