"""taco.losses.TacoLoss refuses what it cannot use: an infinite weight, more captions than images."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from taco.errors import TacoValueError
from taco.losses import ClipTowers, TacoLoss


@pytest.mark.parametrize("weights", [{"beta": math.inf}, {"k_p": math.inf}])
def test_infinite_loss_weights_are_refused(weights):
    """A weight must be finite as well as >= 0."""
    with pytest.raises(TacoValueError, match="must be a finite number >= 0"):
        TacoLoss(**{"k_p": 0.0, "k_j": 0.0, **weights})


def test_more_captions_than_images_is_a_clear_error():
    """3 captions for a batch of 2 images is refused, not an IndexError deep in torch. (The
    check comes before CLIP runs: towers that only look like a CLIPModel keep the test fast.)"""
    stub = nn.Module()
    stub.vision_model, stub.text_model = nn.Identity(), nn.Identity()
    loss = TacoLoss(k_p=0.0, k_j=1.0, clip=ClipTowers(stub, tokenizer=None))
    x = torch.rand(2, 3, 64, 64)
    out = {"x_hat": x * 0.9, "likelihoods": {"y": torch.full((2, 4, 4, 4), 0.5)}}
    with pytest.raises(TacoValueError, match="needs one caption per image"):
        loss(out, x, ["a cat", "a dog", "a bird"])
