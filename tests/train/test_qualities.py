"""Training a variable-rate model: the quality (λ) drawn per step, and the loss at that λ."""

from __future__ import annotations

import pytest
import torch

from taco.losses import RateDistortionLoss, TacoLoss
from taco.models.gains import QUALITY_LAMBDAS
from taco.train.qualities import QualitySchedule


def test_every_cycle_of_q_steps_trains_each_quality_once_in_a_shuffled_order():
    schedule = QualitySchedule(QUALITY_LAMBDAS, seed=0)
    q = len(QUALITY_LAMBDAS)
    steps = [schedule.quality(s) for s in range(20 * q)]
    cycles = [steps[i : i + q] for i in range(0, len(steps), q)]
    assert all(sorted(c) == list(range(1, q + 1)) for c in cycles)
    assert len({tuple(c) for c in cycles}) > 10  # shuffled, not one fixed order
    assert schedule.lmbda(5) == QUALITY_LAMBDAS[schedule.quality(5) - 1]


def test_the_draw_is_a_function_of_seed_and_step_only():
    """Every DDP rank, and a run resumed at any step, draws the same quality."""
    a, b = QualitySchedule(QUALITY_LAMBDAS, seed=7), QualitySchedule(QUALITY_LAMBDAS, seed=7)
    forward = [a.quality(s) for s in range(100)]
    assert [b.quality(s) for s in reversed(range(100))][::-1] == forward  # any order of calls
    assert forward != [QualitySchedule(QUALITY_LAMBDAS, seed=8).quality(s) for s in range(100)]
    # numpy's SeedSequence/PCG64: pinned, so a slice on another machine continues the same run
    zero = QualitySchedule(QUALITY_LAMBDAS, seed=0)
    assert [zero.quality(s) for s in range(14)] == [3, 5, 4, 7, 6, 1, 2, 2, 4, 7, 1, 5, 3, 6]
    with pytest.raises(ValueError):
        a.quality(-1)
    with pytest.raises(ValueError):
        QualitySchedule([])


def test_loss_takes_the_batch_lambda():
    x = torch.rand(2, 3, 64, 64)
    out = {"x_hat": x + 0.05, "likelihoods": {"y": torch.full((2, 8, 4, 4), 0.5)}}
    pairs = [(RateDistortionLoss(0.0016), RateDistortionLoss(0.009)),
             (TacoLoss(0.0016, k_p=0, k_j=0), TacoLoss(0.009, k_p=0, k_j=0))]
    for loss, fixed in pairs:
        at = loss(out, x, None, lmbda=0.009)
        want = fixed(out, x)
        assert at["mse_term"].item() == pytest.approx(0.009 * 255**2 * at["mse"].item())
        assert at["loss"].item() == pytest.approx(want["loss"].item())
        assert loss(out, x)["mse_term"].item() == pytest.approx(0.0016 * 255**2 * at["mse"].item())
        with pytest.raises(ValueError, match="positive"):
            loss(out, x, None, lmbda=0.0)
