"""Training a variable-rate model: the quality (λ) drawn per step, and the loss at that λ."""

from __future__ import annotations

import pytest
import torch

from taco.losses import RateDistortionLoss, TacoLoss
from taco.models.config import QUALITY_LAMBDAS
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


def _records(out, kind="train"):
    import json

    lines = (out / "log.jsonl").read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def test_a_variable_rate_run_trains_every_quality_at_its_lambda(tmp_path, tiny, samples):
    """qualities=[...] makes taco-tiny variable-rate: 3 steps train qualities 1..3 once each (a
    cycle), each step's gains and only those move, the checkpoint knows its qualities, and
    validation reports every quality."""
    import taco
    from taco.models import create_model
    from taco.train import load_config, train

    out = tmp_path / "vr"
    lambdas = [0.0004, 0.0016, 0.009]
    cfg = load_config(None, tiny(out, max_steps=3, lr=1e-3, k_j=0, qualities="[4e-4, 0.0016, 9e-3]",
                                 **{"val.root": samples, "val.interval": 3, "val.images": 2,
                                    "val.crop": 64, "val.compress_images": 1}))
    assert cfg.qualities == lambdas
    result = train(cfg)
    model = taco.load(result.checkpoint)
    assert model.qualities == tuple(lambdas)
    assert model.metadata["qualities"] == lambdas and model.metadata["lambda"] is None
    start = create_model("taco-tiny", seed=0, qualities=lambdas).latent_codec.gains
    gains = model.latent_codec.gains
    # (not inverse_hyper_gain: a fresh tiny model's z rounds to 0, so it gets no gradient yet)
    for name in ("gain", "inverse_gain", "hyper_gain"):
        moved = (getattr(gains, name) != getattr(start, name)).any(dim=1)
        assert moved.tolist() == [True, True, True], name  # each quality trained once
    val = _records(out, "val")[-1]
    for q in (1, 2, 3):
        assert val[f"q{q}/mse_term"] == pytest.approx(lambdas[q - 1] * 255**2 * val[f"q{q}/mse"])
        assert val[f"q{q}/real_bpp"] > 0
    assert val["bpp"] == pytest.approx(sum(val[f"q{q}/bpp"] for q in (1, 2, 3)) / 3)
    assert val["q1/real_bpp"] < val["q3/real_bpp"]


def test_variable_rate_config_errors(tmp_path, tiny):
    from taco.train import ConfigError, load_config
    from taco.train.trainer import lambda_sweep

    with pytest.raises(ConfigError, match="increasing"):
        load_config(None, tiny(tmp_path, qualities="[0.004, 0.001]"))
    with pytest.raises(ConfigError, match="not both"):
        load_config(None, tiny(tmp_path, qualities="[0.001]", **{"model_overrides.qualities": "[0.001]"}))
    with pytest.raises(ConfigError, match="variable-rate"):
        lambda_sweep(load_config(None, tiny(tmp_path, qualities="[0.001, 0.002]")))
    with pytest.raises(ConfigError, match="reference"):
        from taco.train.model_setup import build_training_model

        build_training_model(load_config(None, tiny(tmp_path, qualities="[0.001, 0.002]",
                                           **{"model_overrides.layout": "compressai"})))


def test_a_variable_rate_model_starts_from_a_single_rate_checkpoint(tmp_path):
    """init_from a single-rate checkpoint of the same width: every weight but the fresh gains;
    a variable-rate checkpoint initialises only a model with its qualities."""
    from taco.models import CheckpointError, create_model, save_checkpoint
    from taco.train.model_setup import init_from_checkpoint

    single = save_checkpoint(create_model("elic-tiny", seed=5), tmp_path / "single.safetensors")
    vr = create_model("elic-tiny", seed=1, qualities=[0.001, 0.004])
    fresh = init_from_checkpoint(vr, single)
    assert sorted(fresh) == [f"latent_codec.gains.{n}" for n in
                             ("gain", "hyper_gain", "inverse_gain", "inverse_hyper_gain")]
    assert torch.equal(vr.g_s[1].weight, create_model("elic-tiny", seed=5).g_s[1].weight)
    vr_file = save_checkpoint(vr, tmp_path / "vr.safetensors")
    with pytest.raises(CheckpointError, match="same qualities"):
        init_from_checkpoint(create_model("elic-tiny", qualities=[0.001, 0.002]), vr_file)
    with pytest.raises(CheckpointError, match="same qualities"):
        init_from_checkpoint(create_model("elic-tiny"), vr_file)


def test_the_gpu_recipes_differ_only_in_the_text():
    """configs/taco-minilm-vr.yaml and configs/elic-vr.yaml: same loss, data, optimisation,
    width and qualities; TACO has text (and its caption tokens), ELIC none."""
    from pathlib import Path

    from taco.models.config import QUALITY_LAMBDAS
    from taco.train import load_config
    from taco.train.model_setup import model_config

    root = Path(__file__).resolve().parents[2] / "configs"
    taco_cfg, elic_cfg = (load_config(root / f"{n}.yaml") for n in ("taco-minilm-vr", "elic-vr"))
    a, b = taco_cfg.to_dict(), elic_cfg.to_dict()
    assert sorted(k for k in a if a[k] != b[k]) == ["model", "preset", "text_embeddings"]
    assert (taco_cfg.k_p, taco_cfg.k_j, taco_cfg.lpips_input) == (3.5, 0.0, "official")
    ta, el = model_config(taco_cfg), model_config(elic_cfg)
    assert ta.qualities == el.qualities == list(QUALITY_LAMBDAS)
    assert (ta.N, ta.M, ta.groups, ta.ctx_hidden, ta.layout) == (el.N, el.M, el.groups, el.ctx_hidden,
                                                                 el.layout) == (
        128, 160, [16, 16, 32, 48, 48], [96, 64], "reference")
    assert ta.text_encoder == {"name": "minilm"} and el.text_encoder is None
