"""A run saved with a relative text-encoder folder (before checkpoints stored it absolute) was
warned about on resume as 'a different configuration (model_overrides)': the saved path is
compared absolute, as the other paths are."""

from __future__ import annotations

import warnings
from pathlib import Path

from taco.train.checkpoints import check_resumed_config
from taco.train.config import config_from_dict


def test_a_relative_encoder_folder_saved_before_compares_equal(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "enc").mkdir()
    values = {"model": "taco-tiny", "model_overrides": {"text_encoder": {"name": "minilm", "path": "enc"}}}
    cfg = config_from_dict(values)  # the path absolute now
    saved = cfg.to_dict()
    saved["model_overrides"] = {"text_encoder": {"name": "minilm", "path": "enc"}}  # as saved before
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_resumed_config(cfg, saved, tmp_path / "run")
    assert [str(w.message) for w in caught] == []
