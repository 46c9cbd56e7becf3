"""check_resume: a result JSON written before a model run recorded its device and taco version
(the keys of RECORDED_LATER absent from its run) resumes; a different value is refused."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from taco.evaluation.result_files import RECORDED_LATER
from taco.evaluation.results import check_resume, result_header
from taco.evaluation.runner import ResultsFileError


def _header() -> dict:
    dataset = SimpleNamespace(describe=lambda: {"name": "val", "kind": "folder", "images": 3},
                              image_content="0123456789abcdef")
    run = {"model_fingerprint": "abc", "lpips_input": "standard", "device": "cpu",
           "taco_version": "9.9.9"}
    return result_header("learned", "ELIC", "elic-small-q4", dataset, run, "cpu")


def test_an_older_result_without_the_keys_recorded_later_resumes(tmp_path):
    header = _header()
    run = header["run"]
    assert set(RECORDED_LATER) <= set(run)
    path = tmp_path / "m.json"
    older = {k: v for k, v in run.items() if k not in RECORDED_LATER}
    path.write_text(json.dumps({**header, "run": older}))
    check_resume(path, run)  # not refused
    for key in sorted(RECORDED_LATER):
        path.write_text(json.dumps({**header, "run": {**run, key: "other"}}))
        with pytest.raises(ResultsFileError, match=f"differs in: {key}"):
            check_resume(path, run)
