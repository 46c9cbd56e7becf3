"""The result files of a run (taco.evaluation.results): resuming only the same configuration."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from taco.evaluation.results import check_resume, result_header
from taco.evaluation.runner import ResultsFileError


def _header(label: str) -> tuple[dict, dict]:
    """(the run check_resume compares: the header's, label included; the header)."""
    dataset = SimpleNamespace(describe=lambda: {"name": "val", "kind": "folder", "images": 3},
                              image_content="0123456789abcdef")
    run = {"model_fingerprint": "abc", "lpips_input": "standard"}
    header = result_header("learned", label, "elic-small-q4", dataset, run, "cpu")
    assert "label" not in run  # the caller's dict is left as it was
    return header["run"], header


def test_a_resume_under_another_label_is_refused(tmp_path: Path):
    """``--label TACO`` into a folder holding the same model's results labelled ELIC used to
    relabel them TACO (and join them to TACO's curve): the label is part of the run now."""
    path = tmp_path / "m.json"
    run, header = _header("ELIC")
    assert header["run"]["label"] == "ELIC"
    path.write_text(json.dumps(header))
    check_resume(path, run)  # the same label resumes
    other, _ = _header("TACO")
    with pytest.raises(ResultsFileError, match="labelled 'ELIC', not 'TACO'; resume with that --label"):
        check_resume(path, other)


def test_results_written_before_labels_were_in_the_run_compare_the_top_level_label(tmp_path: Path):
    path = tmp_path / "m.json"
    run, header = _header("ELIC")
    path.write_text(json.dumps({**header, "run": {k: v for k, v in run.items() if k != "label"}}))
    check_resume(path, run)
    other, _ = _header("TACO")
    with pytest.raises(ResultsFileError, match="labelled 'ELIC', not 'TACO'"):
        check_resume(path, other)


def test_a_resumed_matched_run_of_another_model_run_names_its_fingerprint(bmp_folder, model_result, tmp_path):
    """The run's record is compared (check_resume) before the rows' targets (_check_targets):
    another model run (another fingerprint, other bpps) is refused for its fingerprint."""
    from taco.evaluation import open_dataset
    from taco.evaluation.classic import evaluate_matched, get_codec
    from taco.evaluation.runner import ResultsFileError

    dataset = open_dataset(str(bmp_folder(tmp_path / "bmp")))
    out = tmp_path / "out"
    model_json = model_result(out, {"a.bmp": 1.0, "b.bmp": 2.0})
    evaluate_matched(get_codec("jpeg"), dataset, out, model_json, progress=False)
    model_json = model_result(out, {"a.bmp": 1.5, "b.bmp": 2.5})
    data = json.loads(model_json.read_text())
    data["model"] = {"tag": "m-1234", "fingerprint": "5678"}  # its tag, so its stem, kept
    model_json.write_text(json.dumps(data))
    with pytest.raises(ResultsFileError) as e:
        evaluate_matched(get_codec("jpeg"), dataset, out, model_json, progress=False)
    assert "differs in: matched_to_fingerprint" in str(e.value)
    assert "target_bpp" not in str(e.value)
