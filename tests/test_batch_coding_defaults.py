"""compress_batch codes under taco's coding defaults (no autograd, the caller's autocast and
default device kept out), as taco.compress does: a helper placed between its decorators and its
def once took them, and a caller's grad mode reached g_a."""

from __future__ import annotations

import numpy as np
import torch

from taco.models import create_model
from taco.pipeline import compress_batch


def test_a_batch_is_analysed_without_autograd_whatever_the_caller_has_on() -> None:
    model = create_model("elic-tiny", seed=0)
    seen: list[bool] = []
    analysis = model.analysis

    def spying(*args, **kwargs):
        seen.append(torch.is_grad_enabled())
        return analysis(*args, **kwargs)

    model.analysis = spying
    with torch.enable_grad():
        compress_batch([np.zeros((64, 64, 3), np.uint8)], None, model)
    assert seen == [False]
