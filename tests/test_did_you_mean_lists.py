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
