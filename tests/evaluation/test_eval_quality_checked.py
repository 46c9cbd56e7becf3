"""evaluate_model(quality=...) checks the quality as taco.compress does, before any file."""

from __future__ import annotations

import pytest

from taco.errors import TacoValueError
from taco.evaluation.datasets import open_dataset
from taco.evaluation.evaluate import evaluate_model, load_model
from taco.models import create_model


@pytest.mark.parametrize("quality, error, match", [
    (4, TacoValueError, "integer 1..3 .* got 4"),
    (0, TacoValueError, "integer 1..3 .* got 0"),
    (-1, TacoValueError, "integer 1..3 .* got -1"),
    (True, TypeError, "not bool"),
    (2.0, TypeError, "not float"),
])
def test_a_bad_quality_is_refused_before_any_file(tiny_folder, tmp_path, quality, error, match):
    _, info = load_model("elic-tiny")
    vr = create_model("elic-tiny", qualities=[0.0004, 0.0016, 0.009])
    out = tmp_path / "out"
    with pytest.raises(error, match=match):
        evaluate_model(vr, info, open_dataset(str(tiny_folder)), out, quality=quality,
                       progress=False)
    assert not out.exists() or not any(out.iterdir())
