"""compress_batch codes under taco's coding defaults (no autograd, the caller's autocast and
default device kept out), as taco.compress does: a helper placed between its decorators and its
def once took them, and a caller's grad mode and autocast reached g_a."""

from __future__ import annotations

import numpy as np
import torch

import taco.pipeline
from taco.models import create_model
from taco.pipeline import compress_batch


def test_a_batch_is_analysed_without_autograd_or_the_callers_autocast(monkeypatch) -> None:
    model = create_model("elic-tiny", seed=0)
    seen: list[tuple[bool, bool]] = []
    analysis = taco.pipeline.analysis_with_text_overlap

    def spying(*args, **kwargs):
        seen.append((torch.is_grad_enabled(), torch.is_autocast_enabled("cpu")))
        return analysis(*args, **kwargs)

    monkeypatch.setattr(taco.pipeline, "analysis_with_text_overlap", spying)
    with torch.enable_grad(), torch.autocast("cpu", torch.bfloat16):
        compress_batch([np.zeros((64, 64, 3), np.uint8)], None, model)
    assert seen == [(False, False)]
