"""``taco plot`` merged an AVIF speed 6 run and an AVIF speed 3 run (two folders, one label)
into one curve with no word, while ``taco evaluate``'s resume refuses that mix ('differs in:
codec'). A curve joining runs whose ``codec_settings`` differ is refused now, in one line naming
both files and the setting."""

from __future__ import annotations

import json

import pytest

from taco.errors import TacoValueError
from taco.evaluation.plot import collect_curves, load_results


def _run(folder, qualities, **settings):
    folder.mkdir(parents=True)
    points = [{"setting": f"q{q}", "images": 4, "bpp": 0.02 * q, "psnr": 25 + 0.2 * q} for q in qualities]
    codec = {"name": "avif", "implementation": "Pillow 13.0.0 (libavif 1.4.2)", "subsampling": "4:2:0", **settings}
    result = {"format": "taco-eval", "version": 1, "kind": "classic", "label": "AVIF", "codec": "avif",
              "dataset": {"name": "val", "kind": "folder", "images": 4, "crop": "none"},
              "codec_settings": codec, "run": {"codec": codec}, "points": points}
    (folder / "avif.json").write_text(json.dumps(result))
    return folder / "avif.json"


def test_other_codec_settings_are_not_one_curve(tmp_path, eval_main, capsys):
    fast = _run(tmp_path / "a" / "val", [10, 30, 50], speed=6)
    slow = _run(tmp_path / "b" / "val", [15, 25, 35], speed=3)
    with pytest.raises(TacoValueError, match=r"speed 6 in .*a/val/avif\.json, 3 in .*b/val/avif\.json"):
        collect_curves(load_results([tmp_path / "a", tmp_path / "b"]))
    assert eval_main(["plot", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(tmp_path / "rd"),
                      "--bootstrap", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "different codec settings (speed 6 in" in err[0], err
    assert str(fast) in err[0] and str(slow) in err[0]


def test_the_same_settings_and_a_setting_one_lacks_are_one_curve(tmp_path):
    _run(tmp_path / "a" / "val", [10, 30, 50], speed=6)
    _run(tmp_path / "b" / "val", [15, 25, 35])  # an older result that did not record the speed
    _run(tmp_path / "c" / "val", [20, 40], speed=6)
    (curve,) = collect_curves(load_results([tmp_path / d for d in "abc"]))["val"]
    assert len(curve.points) == 8
