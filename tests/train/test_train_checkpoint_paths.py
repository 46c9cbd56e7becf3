"""A checkpoint's training metadata records its paths absolute, as config.yaml and the state do:
``taco models RUN`` and ``taco evaluate``'s model.metadata read the same from any folder."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import yaml

from taco.models.header import read_checkpoint_header
from taco.samples import SAMPLES_DIR as SAMPLES
from taco.train import load_config, train


def test_training_metadata_makes_relative_paths_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from taco.distributed import DistEnv
    from taco.models import create_model
    from taco.train.checkpoints import training_metadata
    from taco.train.config import config_from_dict
    from taco.train.state import TrainProgress

    monkeypatch.chdir(tmp_path)
    (tmp_path / "photos").mkdir()
    cfg = config_from_dict({"preset": "elic", "model": "elic-tiny", "data": {"root": "photos"},
                            "out_dir": "run"})
    meta = training_metadata(cfg, TrainProgress(step=2), create_model("elic-tiny", seed=0),
                             SimpleNamespace(k_j=0.0), DistEnv(), torch.device("cpu"), 2, 4)
    photos = str(tmp_path / "photos")
    assert meta["train_data"]["root"] == photos  # was: "photos"
    assert meta["config"]["data"]["root"] == photos and meta["config"]["out_dir"] == str(tmp_path / "run")
    assert cfg.data.root == "photos"  # the config itself is left as it was


def test_a_run_from_a_relative_folder_records_the_paths_of_config_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny: Callable[..., list[str]]
) -> None:
    shutil.copytree(SAMPLES, tmp_path / "photos")
    monkeypatch.chdir(tmp_path)
    cfg = load_config(None, tiny(Path("run"), max_steps=2, **{"data.root": "photos"}))
    result = train(cfg)
    meta = read_checkpoint_header(result.checkpoint)["metadata"]
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    photos = str(tmp_path / "photos")
    assert saved["data"]["root"] == photos
    assert meta["train_data"]["root"] == photos  # was: "photos"
    assert meta["config"]["data"]["root"] == photos and meta["config"]["out_dir"] == saved["out_dir"]
