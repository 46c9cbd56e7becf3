"""``evaluate_model``'s docstring said its ``quality`` is checked first, as ``taco.compress``
does (a TypeError or TacoValueError before any file), but a single-rate model given
``quality='2'``, ``True`` or ``2`` raised an EvaluationError with a generic message. Any quality
given is now checked by ``taco.compress``'s rule (the same classes, the same words), before
any file; only a variable-rate model given none is an EvaluationError (no default here)."""

from __future__ import annotations

import pytest
import torch

import taco
from taco.evaluation.datasets import open_dataset
from taco.evaluation.evaluate import EvaluationError, evaluate_model, load_model
from taco.models import create_model

LAMBDAS = [0.0004, 0.0016, 0.009]


def _compress_error(model, quality) -> BaseException:
    with pytest.raises((TypeError, ValueError)) as caught:
        taco.compress(torch.zeros(3, 16, 16), None, model, quality=quality)
    return caught.value


@pytest.mark.parametrize(("variable", "quality"), [(False, q) for q in ("2", True, 2.0, 2, 9, 0)]
                         + [(True, q) for q in ("2", True, 2.0, 9, 0)])
def test_a_quality_is_checked_as_compress_does(tiny_folder, tmp_path, variable, quality):
    model, info = load_model("elic-tiny")
    if variable:
        model = create_model("elic-tiny", qualities=LAMBDAS)
    expected = _compress_error(model, quality)
    out = tmp_path / "out"
    with pytest.raises(type(expected)) as caught:
        evaluate_model(model, info, open_dataset(str(tiny_folder)), out, quality=quality, progress=False)
    assert not isinstance(caught.value, EvaluationError)
    assert str(caught.value) == str(expected)
    assert not out.exists()  # before any file


def test_a_variable_rate_model_without_a_quality_is_refused(tiny_folder, tmp_path):
    _, info = load_model("elic-tiny")
    vr = create_model("elic-tiny", qualities=LAMBDAS)
    with pytest.raises(EvaluationError, match=r"one quality at a time: give quality= \(1\.\.3\)"):
        evaluate_model(vr, info, open_dataset(str(tiny_folder)), tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
