"""Mutation round 9 (session 35), models and bench: tests for what today's new code let survive."""

from __future__ import annotations

import pytest


@pytest.fixture()
def example(registry_restored, load_script):
    return load_script("examples/mean_scale_backbone.py")


def test_a_registered_backbone_beside_a_built_in_is_compared_by_n_and_m_only(example):
    """groups are compared only where both models are taco's own architectures: a registered
    backbone's are ELIC's defaults, unread, beside a built-in TACO of its N and M."""
    from taco.bench.config import check_models
    from taco.models import MODEL_CONFIGS, register_architecture

    register_architecture("ms-r9", example.MeanScaleHyperprior, textless=True,
                          configs={"ms-r9-tiny": {"N": 16, "M": 32}})
    assert list(MODEL_CONFIGS["ms-r9-tiny"].groups) != list(MODEL_CONFIGS["taco-tiny"].groups)
    check_models("taco-tiny", "ms-r9-tiny")  # N=16, M=32 both: the same backbone


def test_the_bench_times_taco_s_overlap():
    """TACO (and only TACO) is handed the caption still being encoded: its overlap is timed."""
    from taco.bench.latency import BenchConfig, run_bench

    cfg = BenchConfig(taco_model="taco-tiny", elic_model="elic-tiny", clip_b=False, runs=1,
                      warmup=0, crop=64, images=["skimage-chelsea.png"])
    timed = run_bench(cfg)["systems"]["taco"]
    assert {"overlap_front", "overlap_text_wait"} <= set(timed)


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
