"""Two results of one codec whose q5 agree and whose q50 differ were refused as 'setting q5 twice,
with other results': the first setting both hold, not one that differs. The error names the first
setting whose values differ now (the first given twice where all agree)."""

from __future__ import annotations

import json

import pytest

from taco.errors import TacoValueError
from taco.evaluation.plot import collect_curves, load_results


def _run(folder, points):
    folder.mkdir(parents=True)
    result = {"format": "taco-eval", "version": 1, "kind": "classic", "label": "JPEG", "codec": "jpeg",
              "dataset": {"name": "val", "kind": "folder", "images": 4, "crop": "none"},
              "points": [{"setting": s, "images": 4, "bpp": b, "psnr": q} for s, b, q in points]}
    (folder / "jpeg.json").write_text(json.dumps(result))


def test_the_setting_named_is_one_whose_values_differ(tmp_path):
    _run(tmp_path / "a" / "val", [("q5", 0.2, 25.0), ("q20", 0.4, 28.0), ("q50", 0.8, 31.0)])
    _run(tmp_path / "b" / "val", [("q5", 0.2, 25.0), ("q20", 0.4, 28.0), ("q50", 0.9, 31.5)])
    with pytest.raises(TacoValueError, match=r"has setting q50 twice, with other results"):
        collect_curves(load_results([tmp_path / "a", tmp_path / "b"]))


def test_settings_that_agree_given_twice_still_name_the_first(tmp_path):
    _run(tmp_path / "a" / "val", [("q5", 0.2, 25.0), ("q20", 0.4, 28.0)])
    _run(tmp_path / "b" / "val", [("q5", 0.2, 25.0), ("q20", 0.4, 28.0), ("q50", 0.8, 31.0)])
    with pytest.raises(TacoValueError, match=r"has setting q5 twice"):
        collect_curves(load_results([tmp_path / "a", tmp_path / "b"]))
