"""Review M: ``taco plot --metrics psnr,fid`` on results without FID drew PSNR alone without a
word (``--metrics fid`` alone is "nothing to draw"); one image's title said "1 images"; one
point's bpp axis was labelled with an offset (``1e-10+1.975e-1``)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from taco.errors import TacoWarning
from taco.evaluation.plot import plot_results


def _one_point(tmp_path: Path) -> Path:
    folder = tmp_path / "ev"
    folder.mkdir()
    result = {
        "format": "taco-eval", "version": 1, "kind": "learned", "label": "m", "codec": "m",
        "dataset": {"name": "val", "kind": "folder", "images": 1, "crop": "none"},
        "points": [{"bpp": 0.19750976, "psnr": 26.3, "ms_ssim": 0.9, "lpips": 0.2}],
    }
    (folder / "m.json").write_text(json.dumps(result))
    return folder


def test_a_named_metric_without_data_is_said(tmp_path):
    folder = _one_point(tmp_path)
    with pytest.warns(TacoWarning, match="^FID left out of the figure of val: no point there has a value of it$"):
        written = plot_results([folder], tmp_path / "rd", metrics=["psnr", "fid"])
    svg = next(p for p in written if p.suffix == ".svg").read_text()
    assert "Rate-distortion on val: 1 image<" in svg
    assert "1e-10" not in svg and "1e\u221210" not in svg  # no offset label under the bpp axis
    assert "0.1975" in svg  # ticks in bpp themselves


def test_the_default_metrics_say_nothing_of_those_without_data(tmp_path):
    folder = _one_point(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TacoWarning)
        plot_results([folder], tmp_path / "rd")
