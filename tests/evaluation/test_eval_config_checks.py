"""EvalConfig is checked before anything loads: an empty datasets list, an unknown fid, a
setting the run would ignore (taco evaluate's rules: an anchor with no figure, a label with no
model or of another count, match_bpp with no model) and a name that is none (a classic codec,
a caption mode) or the official coco30k protocol without a coco30k dataset (taco evaluate's
too, before torch loads) are EvaluationErrors, and a dataset or model given alone (a str) is
one item, not its letters."""

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


#: The Python repro: each setting the run ignored (it returned [.../jpeg.json]).
IGNORED = {"match_bpp": True, "label": "mine", "anchor": "JPEG", "plot": False}


@pytest.mark.parametrize("given, match", [
    ({"anchor": "JPEG", "plot": False},
     r"^--anchor names the BD-rate table's anchor, which --no-plot does not write: "),
    ({"label": "mine"}, r"^--label names the RD curve of the --model runs, and no --model is given"),
    ({"model_labels": ["a", "b"]}, r"^--label names the RD curve of the --model runs"),
    ({"match_bpp": True}, r"^--match-bpp codes the classic codecs at a model's bpp: give --model too"),
    ({"models": ["elic-tiny"], "model_labels": ["a", "b"]},
     r"^--label given 2 times for 1 --model: give it once \(every model\) or once per --model"),
    ({"models": ["elic-tiny"], "label": "a", "model_labels": ["b"]},
     r"^label \(every model\) and model_labels \(one per model\) both given"),
])
def test_a_setting_the_run_would_ignore_is_refused(tiny_folder, tmp_path, no_model_loads, given, match):
    """taco evaluate refused these before torch loads; run_evaluation ran without them (the
    label count was said after the device, datasets and captioner were loaded)."""
    cfg = EvalConfig(**{"datasets": [str(tiny_folder)], "classic": ["jpeg"], "qualities": {"jpeg": [50]},
                        "output": tmp_path / "out", "limit": 1, "fid": "off", "progress": False, **given})
    with pytest.raises(EvaluationError, match=match):
        run_evaluation(cfg)
    assert not (tmp_path / "out").exists()


def test_the_repro_is_refused_by_its_first_rule(tiny_folder, tmp_path):
    with pytest.raises(EvaluationError, match="^--anchor names the BD-rate table's anchor"):
        run_evaluation(EvalConfig(datasets=[str(tiny_folder)], classic=["jpeg"], limit=1,
                                  output=tmp_path / "out", qualities={"jpeg": [50]}, **IGNORED))



def test_match_bpp_is_refused_for_want_of_a_model_only_where_classic_codecs_would_be_matched():
    """--match-bpp with neither a model nor a classic codec has nothing it would ignore: no refusal
    of its own (what is missing is said where nothing is found to run)."""
    from taco.evaluation.defaults import config_problem

    settings = dict(models=[], labels=[], match_bpp=True, plot=True, anchor=None)
    assert config_problem(classic=[], **settings) is None
    assert config_problem(classic=["jpeg"], **settings).startswith("--match-bpp codes the classic codecs")
    assert config_problem(classic=["jpeg"], **{**settings, "models": ["taco-tiny"]}) is None


@pytest.mark.parametrize("given, said", [
    ({"classic": ["jpeg", "jpg"]},
     "--classic jpg: no such codec; the codecs are: jpeg, webp, avif, bpg, vtm (did you mean 'jpeg' or 'bpg'?)"),
    ({"caption_modes": ["true", "shufled"]},
     "unknown caption mode 'shufled': use true, shuffled, empty, fixed:TEXT or best-lpips (did you mean 'shuffled'?)"),
    ({"caption_modes": ["fixed: "]}, "caption mode 'fixed: ' has no text: use empty for no caption"),
    ({"coco30k_protocol": "official"}, "--coco30k-protocol applies to coco30k:ROOT datasets only"),
])
def test_names_and_the_protocol_rule_are_config_problems(tiny_folder, tmp_path, monkeypatch, given, said):
    """taco evaluate said these once torch had loaded (its rules were EvalConfig's alone); the
    library says them before a dataset is opened."""
    from taco.evaluation.defaults import config_problem

    settings = {"models": ["elic-tiny"], "classic": ["jpeg"], "labels": [], "match_bpp": False, "plot": True,
                "anchor": None, "caption_modes": ["true"], "datasets": [str(tiny_folder)],
                "coco30k_protocol": "paper"}
    assert config_problem(**settings) is None
    assert config_problem(**{**settings, "datasets": ["coco30k:/data"], "coco30k_protocol": "official",
                             "caption_modes": ["fixed:a cat", "best-lpips"], "classic": ["JPEG", "vtm"]}) is None
    assert config_problem(**{**settings, **given}) == said

    def refuse(*args, **kwargs):
        raise AssertionError("a dataset was opened")
    monkeypatch.setattr(evaluate_module, "open_dataset", refuse)
    cfg = EvalConfig(**{"datasets": [str(tiny_folder)], "models": ["elic-tiny"], "classic": ["jpeg"],
                        "output": tmp_path / "out", "progress": False, **given})
    with pytest.raises(EvaluationError) as caught:
        run_evaluation(cfg)
    assert str(caught.value) == said


def test_nothing_to_evaluate_says_how_to_give_something(tiny_folder, tmp_path):
    from taco.resolve import DEFAULT_MODEL

    with pytest.raises(EvaluationError) as caught:
        run_evaluation(EvalConfig(datasets=[str(tiny_folder)], output=tmp_path / "out"))
    assert str(caught.value) == ("nothing to evaluate: give --model and/or --classic (e.g. -m "
                                 f"{DEFAULT_MODEL}, or --classic jpeg,webp)")
