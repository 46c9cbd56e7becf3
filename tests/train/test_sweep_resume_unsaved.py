"""``--lambda-sweep --resume`` starts again a λ stopped before its first state (its folder holds
config.yaml and log.jsonl, which a new run refuses: review F), and a new sweep refuses it."""

from __future__ import annotations

import pytest

from taco.train import lambda_sweep, load_config
from taco.train.config import ConfigError


def test_a_lambda_stopped_before_its_first_state_starts_again(tmp_path, tiny):
    cfg = load_config(None, tiny(tmp_path, max_steps=1, preset="elic", model="elic-tiny", k_j=0))
    stopped = tmp_path / "lambda-0.0004"
    stopped.mkdir()
    (stopped / "config.yaml").write_text("out_dir: x\n")
    (stopped / "log.jsonl").write_text("")
    with pytest.raises(ConfigError, match="already holds config.yaml"):
        lambda_sweep(cfg, lambdas=(0.0004,))
    (result,) = lambda_sweep(cfg, lambdas=(0.0004,), resume=True)
    assert result.checkpoint == stopped / "checkpoint.safetensors"
