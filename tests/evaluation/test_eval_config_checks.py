"""EvalConfig is checked before anything loads: an empty datasets list and an unknown fid are
EvaluationErrors, and a dataset or model given alone (a str) is one item, not its letters."""

from __future__ import annotations

import json

import pytest

from taco.evaluation import evaluate as evaluate_module
from taco.evaluation.evaluate import EvalConfig, EvaluationError, run_evaluation


@pytest.fixture
def no_model_loads(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded")
    monkeypatch.setattr(evaluate_module, "load_model", refuse)


@pytest.mark.parametrize("changes, match", [
    ({"datasets": []}, "give at least one dataset"),
    ({"fid": "offf"}, r"fid must be auto, full, patches or off, got 'offf'"),
])
def test_refused_before_anything_loads(tiny_folder, tmp_path, no_model_loads, changes, match):
    cfg = EvalConfig(**{"datasets": [str(tiny_folder)], "models": ["elic-tiny"],
                        "output": tmp_path / "out", "cmmd_clip": None, "plot": False,
                        "progress": False, **changes})
    with pytest.raises(EvaluationError, match=match):
        run_evaluation(cfg)
    assert not (tmp_path / "out").exists()


def test_a_dataset_and_a_model_given_alone(tiny_folder, tmp_path):
    cfg = EvalConfig(datasets=str(tiny_folder), models="elic-tiny", output=tmp_path / "out",
                     fid="off", limit=1, plot=False, progress=False)
    assert (cfg.datasets, cfg.models) == ([str(tiny_folder)], ["elic-tiny"])
    assert EvalConfig(datasets=tiny_folder, classic="jpeg").datasets == [str(tiny_folder)]
    results = [json.loads(p.read_text()) for p in run_evaluation(cfg) if p.suffix == ".json"]
    assert [r["model"]["model_id"] for r in results] == ["elic-tiny"]
