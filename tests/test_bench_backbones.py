"""``taco bench`` compares TACO with ELIC on one backbone: a --taco-model / --elic-model pair of
different widths is refused before any work, the CLIP-B-sized TACO is built at --taco-model's
backbone (it was the paper-size ``taco`` whatever the models), and the JSON's config says whether
that system ran (review G)."""

from __future__ import annotations

import pytest
import torch

from taco import cli
from taco.bench import latency
from taco.bench.latency import BenchConfig, build_systems, run_bench
from taco.bench.systems import bench_text_encoder
from taco.errors import TacoValueError
from taco.models import create_model


def _bench(argv, monkeypatch):
    if "taco.bench.cli" not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "taco.bench.cli"))
    return cli.main(["bench", *argv])


@pytest.mark.parametrize("taco_model, elic_model", [
    ("taco-tiny", "elic"), ("taco-minilm", "elic-tiny"), ("taco-minilm-small", "elic-vr"),
])
def test_models_of_different_backbones_are_refused_before_any_work(
        taco_model, elic_model, monkeypatch, capsys):
    monkeypatch.setattr(latency, "load_inputs", lambda *a, **k: pytest.fail("the bench ran"))
    argv = ["--taco-model", taco_model, "--elic-model", elic_model, "--device", "cpu"]
    assert _bench(argv, monkeypatch) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("taco bench: error: ") and len(err.splitlines()) == 1
    assert "different backbones" in err and taco_model in err and elic_model in err


def test_the_same_backbone_passes_the_check():
    latency.check_models("taco-tiny", "elic-tiny")
    latency.check_models("taco-minilm-vr", "elic-vr")
    with pytest.raises(TacoValueError, match="N=16, M=32"):
        latency.check_models("taco-tiny", "elic-small")


def test_the_clip_b_system_has_the_taco_model_s_backbone(monkeypatch):
    small_text = bench_text_encoder(create_model("taco-tiny"))  # CLIP-B itself takes 10 s to build
    monkeypatch.setattr(latency, "clip_b_random", lambda: small_text)
    monkeypatch.setattr(latency, "compressai_elic", lambda elic: torch.nn.Identity())  # not timed here
    cfg = BenchConfig(taco_model="taco-tiny", elic_model="elic-tiny", clip_b=True)
    sy = build_systems(cfg, torch.device("cpu"))
    assert sy.taco_clip is not None and sy.clip_text is small_text
    assert (sy.taco_clip.N, sy.taco_clip.M, sy.taco_clip.groups) == (16, 32, [8, 8, 16])
    assert sy.taco_clip.config.text_encoder == {"name": "clip"}


def test_the_json_config_says_clip_b_off_when_it_did_not_run(monkeypatch):
    def stand_in(model, log=lambda s: None):  # as when CLIP's weights are not here
        encoder = bench_text_encoder(model, log)
        encoder.name = "clip-b-random"
        return encoder

    monkeypatch.setattr(latency, "bench_text_encoder", stand_in)
    cfg = BenchConfig(taco_model="taco-tiny", elic_model="elic-tiny", clip_b=True, runs=1,
                      warmup=0, crop=64, images=["skimage-chelsea.png"])
    result = run_bench(cfg)
    assert result["config"]["clip_b"] is False
    assert "taco-clip-b" not in result["systems"] and "taco-clip-b" not in result["models"]
    assert cfg.clip_b is True  # the caller's config is left as it was
