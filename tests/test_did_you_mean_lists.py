"""A misspelt metric, codec or bench architecture says which one was meant, as an unknown model
or config key does; and ``taco bench --help`` shows short metavars (N, NAME), as the other
commands do, not argparse's upper-cased option names (RUNS, TACO_MODEL)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import taco
from taco.cli import main
from taco.evaluation.classic import CodecUnavailable, get_codec
from taco.evaluation.plot import plot_results


def test_plot_suggests_the_metric(tmp_path, capsys):
    with pytest.raises(ValueError, match=re.escape("unknown metric lpip (did you mean 'lpips'?); "
                                                   "the metrics are: psnr")):
        plot_results([tmp_path], tmp_path / "rd", metrics=["psnr", "lpip"])


def test_get_codec_suggests_the_codec():
    with pytest.raises(CodecUnavailable, match=re.escape("unknown codec 'jpg' (did you mean 'jpeg'")):
        get_codec("jpg")


def test_bench_suggests_the_architecture(capsys):
    assert main(["bench", "--quick", "--device", "cpu", "--taco-model", "taco-tin"]) == 2
    err = capsys.readouterr().err
    assert "--taco-model 'taco-tin': not an architecture name" in err
    assert "(did you mean 'taco-tiny'" in err


def test_bench_help_has_short_metavars(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    out = capsys.readouterr().out
    for shown in ("--runs N", "--warmup N", "--crop N", "--taco-model NAME", "--elic-model NAME",
                  "--batch N", "--threads N"):
        assert shown in out
    assert not re.search(r"--\w[\w-]* [A-Z]+_[A-Z]+|RUNS|WARMUP|CROP|THREADS|BATCH", out), out


def test_a_caption_mode_or_classic_codec_typo_gets_a_hint(tmp_path, capsys):
    from taco.evaluation.evaluate import CaptionMode, EvaluationError

    with pytest.raises(EvaluationError, match=r"or best-lpips \(did you mean 'empty'\?\)$"):
        CaptionMode.parse("emtpy")
    samples = Path(taco.__file__).parent / "assets" / "samples"
    assert main(["evaluate", str(samples), "--classic", "jpg", "-o", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.rstrip().endswith("(did you mean 'jpeg' or 'bpg'?)")


#: ModelConfig's fields, as an unknown one's message lists them.
MODEL_FIELDS = ("M, N, architecture, ctx_hidden, gamma_init, groups, heads, injector_at, layout, learn_gamma, "
                "options, param_widths, qualities, residual, text_encoder, text_injection, use_mask")


def test_a_model_config_field_typo_names_the_field_and_the_known_ones():
    """It said only "unknown model config fields: ['residul']"."""
    with pytest.raises(taco.TacoError) as refused:
        taco.create_model("taco-tiny", residul="add")
    assert str(refused.value) == ("unknown model config fields: ['residul'] (did you mean 'residual'?); "
                                  f"known: {MODEL_FIELDS}")


def test_several_unknown_fields_in_a_checkpoint_header_each_name_theirs():
    from taco.models import CheckpointError, ModelConfig

    with pytest.raises(CheckpointError) as refused:
        ModelConfig.from_dict({**ModelConfig().to_dict(), "gama_init": 0.5, "residul": "add", "zzz": 1})
    assert str(refused.value) == ("unknown model config fields: ['gama_init', 'residul', 'zzz']: "
                                  "'gama_init' (did you mean 'gamma_init'?), 'residul' (did you mean 'residual'?); "
                                  f"known: {MODEL_FIELDS}")


def test_a_backbone_s_typo_is_named_before_its_options():
    from taco.models import ModelConfig

    assert ModelConfig.unknown_fields_problem({"architecture": "mine", "residul": 1}) == (
        "unknown model config fields: ['residul'] (did you mean 'residual'?) "
        "(a backbone's own settings go in options={'residul': ...})")


@pytest.mark.parametrize(("name", "meant"), [("minlm", "'minilm'"), ("MiniLM", "'minilm'"), ("clipp", "'clip'")])
def test_a_text_encoder_typo_names_the_encoder(name, meant):
    from taco.text_specs import text_encoder_arguments

    with pytest.raises(ValueError) as refused:
        text_encoder_arguments(name, {})
    assert str(refused.value) == (f"unknown text encoder {name!r} (did you mean {meant}?); "
                                  "known: clip, clip-tiny, minilm")
