"""taco.train.config.run_qualities: the qualities a training run's config gives its model."""

from __future__ import annotations

from taco.models import MODEL_CONFIGS
from taco.train.config import run_qualities


def test_run_qualities_an_explicit_none() -> None:
    vr = MODEL_CONFIGS["taco-minilm-vr"].qualities
    assert isinstance(vr, list | tuple) and vr
    # a top-level qualities: None is as if unset: the model's
    assert run_qualities({"qualities": None, "model": "taco-minilm-vr"}) == vr
    # model_overrides' qualities: None makes the model single-rate
    assert run_qualities({"model_overrides": {"qualities": None}, "model": "taco-minilm-vr"}) is None
    assert run_qualities({"model_overrides": {"qualities": [0.01]}, "model": "taco"}) == [0.01]
