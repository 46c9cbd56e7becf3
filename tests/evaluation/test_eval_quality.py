"""taco evaluate with a variable-rate model: every quality is one RD point of one curve."""

from __future__ import annotations

import json

import pytest

from taco.errors import TacoValueError
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
    with pytest.raises(TacoValueError, match="single rate .* takes no quality"):  # as taco.compress
        evaluate_model(model, info, dataset, tmp_path, progress=False, quality=1)


def test_qualities_chooses_the_points_of_a_variable_rate_model(tiny_folder, tmp_path):
    ckpt = save_checkpoint(create_model("elic-tiny", seed=0, qualities=LAMBDAS),
                           tmp_path / "vr.safetensors")
    cfg = EvalConfig(datasets=[str(tiny_folder)], models=[str(ckpt)], output=tmp_path / "out",
                     qualities={str(ckpt).lower(): [3, 1]}, fid="off", cmmd_clip="off",
                     plot=False, progress=False)
    results = [json.loads(p.read_text()) for p in run_evaluation(cfg) if p.suffix == ".json"]
    assert [r["quality"] for r in results] == [1, 3]
    assert [r["lambda"] for r in results] == [LAMBDAS[0], LAMBDAS[2]]


@pytest.mark.parametrize("qualities, match", [
    ({"elic-tiny": [1]}, "single-rate model"),
    ({"vr": [0, 2]}, r"=\.\.\.: 0 outside elic-tiny\+custom's qualities 1\.\.3$"),
    ({"vr": [1, 4, 9]}, r"=\.\.\.: 4, 9 outside elic-tiny\+custom's qualities 1\.\.3$"),
    ({"vr": [2, 2]}, "at most once"),
    ({"webp": [50]}, "neither a --classic codec nor a --model"),
])
def test_qualities_refuses_what_it_cannot_code(tiny_folder, tmp_path, qualities, match):
    ckpt = save_checkpoint(create_model("elic-tiny", seed=0, qualities=LAMBDAS),
                           tmp_path / "vr.safetensors")
    wanted = {(str(ckpt).lower() if k == "vr" else k): v for k, v in qualities.items()}
    cfg = EvalConfig(datasets=[str(tiny_folder)], models=[str(ckpt), "elic-tiny"],
                     classic=["jpeg"], output=tmp_path / "out", qualities=wanted, fid="off",
                     cmmd_clip="off", plot=False, progress=False)
    with pytest.raises(EvaluationError, match=match):
        run_evaluation(cfg)
    assert not (tmp_path / "out").exists()  # refused before any work
