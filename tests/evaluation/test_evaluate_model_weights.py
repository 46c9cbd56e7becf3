"""``evaluate_model(model, info, ...)`` files, resumes and records its results under ``info``
(its tag, fingerprint, model id, λ). It trusted ``info.fingerprint``: after
``model.load_state_dict(other weights)`` a second call into the same folder "resumed" and
reported the first weights' numbers, and into a fresh folder it coded the new weights but wrote
them as the old model's. The weights are now checked against ``info`` first."""

from __future__ import annotations

import json

import pytest

from taco.evaluation import evaluate_model, load_model, open_dataset
from taco.evaluation.evaluate import EvaluationError
from taco.models import create_model, model_fingerprint, save_checkpoint


def test_other_weights_loaded_into_the_model_are_refused(tiny_folder, tmp_path):
    ds = open_dataset(tiny_folder)
    model, info = load_model("elic-tiny")
    first = json.loads(evaluate_model(model, info, ds, tmp_path / "a", progress=False).read_text())
    model.load_state_dict(create_model("elic-tiny", seed=1).state_dict())
    held = model_fingerprint(model).hex()
    assert held != info.fingerprint
    said = (rf"^the model's weights \(fingerprint {held}\) are not those info describes "
            rf"\('elic-tiny', fingerprint {info.fingerprint}\): they changed after load_model .*"
            r"make a new ModelInfo for them: save them with taco.save_checkpoint\(model, PATH\) "
            r"and evaluate the model and info that taco.evaluation.load_model\(PATH\) returns$")
    before = sorted(p.name for p in (tmp_path / "a").iterdir())
    with pytest.raises(EvaluationError, match=said):  # was: a "resume" giving the first weights' numbers
        evaluate_model(model, info, ds, tmp_path / "a", progress=False)
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == before
    with pytest.raises(EvaluationError, match=said):  # was: the new weights filed as the old model's
        evaluate_model(model, info, ds, tmp_path / "b", progress=False)
    assert not (tmp_path / "b").exists()

    # what the error says to do works, and records the weights that were coded
    new_model, new_info = load_model(save_checkpoint(model, tmp_path / "tuned.safetensors"))
    second = json.loads(evaluate_model(new_model, new_info, ds, tmp_path / "a", progress=False).read_text())
    assert second["model"]["fingerprint"] == model_fingerprint(new_model).hex() == new_info.fingerprint
    assert second["model"]["fingerprint"] != first["model"]["fingerprint"]
    assert second["csv"] != first["csv"] and second["timing"]["images_timed"] == 4


def test_the_same_weights_resume(tiny_folder, tmp_path):
    """Weights written in place but put back (the fingerprint is over their values) still resume."""
    ds = open_dataset(tiny_folder)
    model, info = load_model("elic-tiny")
    evaluate_model(model, info, ds, tmp_path, progress=False)
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(create_model("elic-tiny", seed=1).state_dict())
    model.load_state_dict(saved)
    again = json.loads(evaluate_model(model, info, ds, tmp_path, progress=False).read_text())
    assert again["timing"]["images_timed"] == 0 and again["complete"]


def test_taco_evaluate_never_trips_it(taco_main, tiny_folder, tmp_path, capsys):
    """The CLI builds each ModelInfo from the model it evaluates: two caption modes of a text
    model, run and then resumed, pass the check at every call."""
    argv = ["evaluate", str(tiny_folder), "-m", "taco-tiny", "--compare-caption-modes", "true,empty",
            "-o", str(tmp_path / "out"), "--quiet"]
    assert taco_main(argv) == 0, capsys.readouterr().err
    assert taco_main(argv) == 0, capsys.readouterr().err
    assert "fingerprint" not in capsys.readouterr().err
