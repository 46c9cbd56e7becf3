"""A MiniLM text encoder's folder recorded in a model's config and gone: said so whatever
TACO_CLIP_PATH says (never looked up on the hub), a folder under ~ named expanded."""

from __future__ import annotations

from pathlib import Path

import pytest

from taco.models import create_model
from taco.text import CLIP_PATH_ENV, TextEncoderUnavailable, model_text_encoder


@pytest.mark.parametrize("recorded", ["bert", "someone/minilm"])  # a folder; one shaped like a hub id
def test_a_gone_minilm_folder_is_said_whatever_taco_clip_path_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    recorded: str) -> None:
    # TACO_CLIP_PATH points a CLIP elsewhere, not a MiniLM; a MiniLM is never looked up on the hub
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(CLIP_PATH_ENV, str(tmp_path / "clip"))
    model = create_model("taco-minilm-tiny")
    model.config.text_encoder = {"name": "minilm", "path": recorded}
    with pytest.raises(TextEncoderUnavailable, match="recorded in the model's config.*put the folder back"):
        model_text_encoder(model)


def test_a_recorded_folder_under_home_is_named_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv(CLIP_PATH_ENV, raising=False)
    model = create_model("taco-minilm-tiny")
    model.config.text_encoder = {"name": "minilm", "path": "~/bert"}
    with pytest.raises(TextEncoderUnavailable) as e:
        model_text_encoder(model)
    assert repr(str(tmp_path / "bert")) in str(e.value)
