"""taco evaluate with a variable-rate model: every quality is one RD point of one curve."""

from __future__ import annotations

import json

import pytest

from taco.evaluation.datasets import open_dataset
from taco.evaluation.evaluate import (
    EvalConfig,
    EvaluationError,
    evaluate_model,
    load_model,
    run_evaluation,
)
from taco.evaluation.runner import read_rows
from taco.models import create_model, save_checkpoint

LAMBDAS = [0.0004, 0.0016, 0.009]


def test_every_quality_is_a_point_of_one_curve(tiny_folder, tmp_path):
    ckpt = save_checkpoint(create_model("elic-tiny", seed=0, qualities=LAMBDAS),
                           tmp_path / "vr.safetensors")
    written = run_evaluation(EvalConfig(datasets=[str(tiny_folder)], models=[str(ckpt)],
                                        output=tmp_path / "out", fid="off", cmmd_clip="off",
                                        plot=False, progress=False))
    results = [json.loads(p.read_text()) for p in written if p.suffix == ".json"]
    assert [r["quality"] for r in results] == [1, 2, 3]
    assert [r["lambda"] for r in results] == LAMBDAS
    assert len({r["label"] for r in results}) == 1  # one curve
    assert len({r["model"]["tag"] for r in results}) == 3  # but three files
    for q, r in enumerate(results, start=1):
        rows = read_rows(written[0].parent / r["csv"])
        assert {row["setting"] for row in rows} == {f"q{q}"} and r["points"][0]["setting"] == f"q{q}"
    bpps = [r["points"][0]["bpp"] for r in results]
    assert bpps == sorted(bpps) and bpps[0] < bpps[-1]


def test_a_variable_rate_model_needs_one_quality_per_run(tiny_folder, tmp_path):
    model, info = load_model("elic-tiny")
    vr = create_model("elic-tiny", qualities=LAMBDAS)
    dataset = open_dataset(str(tiny_folder))
    with pytest.raises(EvaluationError, match="one quality at a time"):
        evaluate_model(vr, info, dataset, tmp_path, progress=False)
    with pytest.raises(EvaluationError, match="one quality at a time"):
        evaluate_model(model, info, dataset, tmp_path, progress=False, quality=1)
