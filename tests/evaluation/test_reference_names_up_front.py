"""A ``--reference`` name with no published points is refused before any work: ``taco evaluate``
refused it only after the whole evaluation had run (when the figure was drawn), and with
``--no-plot`` not at all."""

from __future__ import annotations

import pytest

from taco.evaluation.evaluate import EvalConfig, run_evaluation
from taco.evaluation.plot import reference_kinds

SAYS = "no reference points for ['bogus']; have ['coco30k', 'kodak']"


def test_reference_kinds():
    assert reference_kinds("auto") is None
    assert reference_kinds("none") == []
    assert reference_kinds("kodak, coco30k,kodak") == ["kodak", "coco30k"]
    for bad in ("bogus", "kodak,bogus", ""):
        with pytest.raises(ValueError, match="no reference points"):
            reference_kinds(bad)


@pytest.mark.parametrize("plot", [[], ["--no-plot"]])
def test_evaluate_refuses_it_before_coding(taco_main, tmp_path, capsys, plot):
    out = tmp_path / "out"
    assert taco_main(["evaluate", "samples", "--classic", "jpeg", "--qualities", "jpeg=50", "--limit", "1",
                      "--crop", "64", "--fid", "off", "--cmmd-clip", "off", "--quiet", "-o", str(out),
                      "--reference", "bogus", *plot]) == 2
    assert capsys.readouterr().err.strip() == f"taco evaluate: error: {SAYS}"
    assert not out.exists()  # nothing coded, nothing written


def test_plot_refuses_it_before_reading_results(taco_main, tmp_path, capsys):
    assert taco_main(["plot", str(tmp_path / "missing"), "--reference", "kodak,bogus"]) == 2
    assert capsys.readouterr().err.strip() == f"taco plot: error: {SAYS}"


def test_the_library_refuses_it_before_coding(tmp_path):
    cfg = EvalConfig(datasets=["samples"], models=[], output=tmp_path / "out", classic=["jpeg"],
                     limit=1, crop=64, fid="off", plot=False, reference="bogus", progress=False)
    with pytest.raises(ValueError, match="no reference points"):
        run_evaluation(cfg)
    assert not (tmp_path / "out").exists()
