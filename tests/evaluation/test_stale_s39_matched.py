"""F-STALE (s39): ``--match-bpp`` does not resume rows coded for the bpp of a model run that was
made again since (another seed or caption mode): they would keep their old ``target_bpp`` and
``bpp_gap``."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from taco.evaluation.classic import evaluate_matched, get_codec
from taco.evaluation.datasets import open_dataset
from taco.evaluation.runner import ResultsFileError, read_rows


def _targets(path: Path) -> dict[str, str]:
    with path.open(newline="") as f:
        return {r["image"]: r["target_bpp"] for r in csv.DictReader(f)}


def test_matched_rows_for_the_bpp_of_a_model_run_made_again_are_refused(bmp_folder, model_result, tmp_path):
    root = bmp_folder(tmp_path / "bmp")
    ds, jpeg, out = open_dataset(str(root)), get_codec("jpeg"), tmp_path / "out"
    model_json = model_result(tmp_path / "model", {"a.bmp": 1.5, "b.bmp": 2.0})
    path = evaluate_matched(jpeg, ds, out, model_json, progress=False)
    assert _targets(out / "jpeg.matched-m-1234.csv") == {"a.bmp": "1.5", "b.bmp": "2.0"}
    model_result(tmp_path / "model", {"a.bmp": 1.0, "b.bmp": 2.0})  # run again: other results
    with pytest.raises(ResultsFileError, match=r"differs in: target_bpp of a\.bmp.*delete its CSV/JSON"):
        evaluate_matched(jpeg, ds, out, model_json, progress=False)
    assert _targets(out / "jpeg.matched-m-1234.csv") == {"a.bmp": "1.5", "b.bmp": "2.0"}  # untouched
    assert path.is_file()


def test_matched_rows_resume_while_the_model_run_only_grew(bmp_folder, model_result, tmp_path):
    root = bmp_folder(tmp_path / "bmp")
    ds, jpeg, out = open_dataset(str(root)), get_codec("jpeg"), tmp_path / "out"
    model_json = model_result(tmp_path / "model", {"a.bmp": 1.5})
    evaluate_matched(jpeg, ds, out, model_json, progress=False)
    model_result(tmp_path / "model", {"a.bmp": 1.5, "b.bmp": 2.0})  # a larger --limit: one more image
    path = evaluate_matched(jpeg, ds, out, model_json, progress=False)
    rows = read_rows(out / "jpeg.matched-m-1234.csv")
    assert [r["image"] for r in rows] == ["a.bmp", "b.bmp"]
    assert _targets(out / "jpeg.matched-m-1234.csv") == {"a.bmp": "1.5", "b.bmp": "2.0"}
    assert path.is_file()
