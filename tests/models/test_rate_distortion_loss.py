"""``taco.losses.RateDistortionLoss`` refuses a model forward that is not a mapping holding
``x_hat`` and ``likelihoods``."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("out", [
    {"x_hat": None},  # no likelihoods
    ("x_hat", "likelihoods"),  # not a mapping at all
])
def test_the_loss_refuses_a_forward_without_x_hat_and_likelihoods(out):
    import torch

    from taco.errors import TacoValueError
    from taco.losses import RateDistortionLoss

    x = torch.rand(1, 3, 16, 16)
    with pytest.raises(TacoValueError, match="expected the model's forward to return"):
        RateDistortionLoss()(out if not isinstance(out, dict) else {**out, "x_hat": x}, x)
