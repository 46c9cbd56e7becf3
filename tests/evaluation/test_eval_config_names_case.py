"""``EvalConfig.qualities`` names a codec or model in any case, as ``--classic``, ``--model`` and
``taco evaluate --qualities`` do (the library refused ``{"JPEG": [50]}`` as 'neither a --classic
codec nor a --model of this run' next to ``classic=["jpeg"]``)."""

from __future__ import annotations

import json

import pytest

from taco.evaluation import EvalConfig, run_evaluation
from taco.evaluation.evaluate import EvaluationError


def test_a_codec_named_in_another_case_takes_its_qualities(tiny_folder, tmp_path):
    cfg = EvalConfig(datasets=[str(tiny_folder)], classic=["jpeg"], qualities={"JPEG": [50]},
                     limit=1, fid="off", cmmd_clip="off", output=str(tmp_path / "out"), plot=False,
                     progress=False)
    assert cfg.qualities == {"jpeg": [50]}
    [written] = run_evaluation(cfg)
    assert [p["setting"] for p in json.loads(written.read_text())["points"]] == ["q50"]


def test_one_name_in_two_cases_is_refused():
    with pytest.raises(EvaluationError, match="'JPEG' given twice"):
        EvalConfig(datasets=[], qualities={"jpeg": [50], "JPEG": [70]})
