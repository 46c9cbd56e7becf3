"""Review U: plot_results warned of the panels left out for want of data when ``metrics`` named
some of them, but not when it named all of them (as the default all does not): whenever
``metrics`` is given, each such panel is said."""

from __future__ import annotations

import json
import warnings

import pytest

from taco.errors import TacoValueError, TacoWarning
from taco.evaluation.bdrate import METRIC_ORDER
from taco.evaluation.plot import plot_results


def _one_point(tmp_path, dataset="val", ms_ssim=0.9):
    folder = tmp_path / f"ev-{dataset}"
    folder.mkdir()
    (folder / "m.json").write_text(json.dumps({
        "format": "taco-eval", "version": 1, "kind": "learned", "label": "m", "codec": "m",
        "dataset": {"name": dataset, "kind": "folder", "images": 1, "crop": "none"},
        "points": [{"bpp": 0.2, "psnr": 26.3, "ms_ssim": ms_ssim, "lpips": 0.2}],
    }))
    return folder


def test_every_metric_named_says_those_without_data(tmp_path):
    with pytest.warns(TacoWarning, match="^FID left out of the figure of val"):
        plot_results([_one_point(tmp_path)], tmp_path / "rd", metrics=list(METRIC_ORDER))


def test_the_default_says_nothing(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", TacoWarning)
        plot_results([_one_point(tmp_path)], tmp_path / "rd", metrics=None)


def test_a_dataset_without_any_named_metric_is_said(tmp_path):
    """Of two datasets, one without MS-SSIM (small images) was dropped unseen with --metrics
    ms_ssim (review V)."""
    with pytest.warns(TacoWarning, match="^small left out: none of ms_ssim has a value there"):
        written = plot_results([_one_point(tmp_path, "big"), _one_point(tmp_path, "small", None)],
                               tmp_path / "rd", metrics=["ms_ssim"])
    assert sorted(p.name for p in written) == ["rd-big.png", "rd-big.svg"]


def test_no_metric_named_is_refused(tmp_path):
    """--metrics '' ended in "nothing to draw: ... has a bpp and a value of " (review V)."""
    with pytest.raises(TacoValueError, match="no metric named"):
        plot_results(tmp_path, tmp_path / "rd", metrics=[])


def test_a_metric_named_twice_is_one_panel(tmp_path, eval_main):
    """``--metrics lpips,psnr,psnr`` drew two identical PSNR panels; a repeat is dropped, as
    --reference and --compare-caption-modes drop theirs."""
    import re

    assert eval_main(["plot", str(_one_point(tmp_path)), "-o", str(tmp_path / "rd"), "--metrics",
                      "lpips,psnr,psnr"]) == 0
    svg = re.sub(r"<!--.*?-->", "", (tmp_path / "rd.svg").read_text(encoding="utf-8"), flags=re.S)
    assert svg.count("PSNR (dB)") == 1 and svg.count("LPIPS (AlexNet)") == 1
