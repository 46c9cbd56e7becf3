"""``taco plot OLD NEW`` where OLD holds a result written before ``run.lpips_input``,
``run.label`` and ``run.dataset.content`` were recorded, NEW the same run written now: one
run, not refused as "has setting q5 twice, with other results" (taco.evaluation.plot)."""

from __future__ import annotations

import json

import pytest

from taco.evaluation.plot import collect_curves, plot_results

CODEC = {"name": "jpeg", "label": "JPEG", "subsampling": "4:2:0", "optimize": True}
OLD_RUN = {"codec": CODEC, "dataset": {"name": "val", "kind": "folder", "crop": "none"},
           "set_metrics": [], "captioner": None}
NEW_RUN = {**OLD_RUN, "dataset": {**OLD_RUN["dataset"], "content": "52bcbd2f46be2d9b"},
           "lpips_input": "standard", "label": "JPEG"}
POINTS = [{"setting": "q5", "images": 7, "bpp": 0.225, "psnr": 24.6, "ms_ssim": 0.856, "lpips": 0.364},
          {"setting": "q50", "images": 7, "bpp": 0.9, "psnr": 31.0, "ms_ssim": 0.96, "lpips": 0.10}]


def _jpeg(run: dict, points=POINTS) -> dict:
    return {"format": "taco-eval", "version": 1, "kind": "classic", "label": "JPEG", "codec": "jpeg",
            "dataset": {"name": "val", "kind": "folder", "images": 7, "crop": "none"},
            "run": run, "points": points}


def test_an_older_copy_of_the_same_run_is_one_run(tmp_path):
    old, new = _jpeg(OLD_RUN), _jpeg(NEW_RUN)
    for results in ([old, new], [new, old]):
        (curve,) = collect_curves(results)["val"]
        assert len(curve.sources) == 1 and [p["setting"] for p in curve.points] == ["q5", "q50"]
    for name, data in (("old", old), ("new", new)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "jpeg.json").write_text(json.dumps(data), encoding="utf-8")
    written = plot_results([tmp_path / "old", tmp_path / "new"], tmp_path / "out" / "rd", reference="none")
    assert {p.suffix for p in written} == {".png", ".svg"}


def test_a_key_both_have_with_other_values_is_still_another_run():
    other_content = {**NEW_RUN, "dataset": {**NEW_RUN["dataset"], "content": "0000000000000000"}}
    official = {**NEW_RUN, "lpips_input": "official"}
    other_codec = {**OLD_RUN, "codec": {**CODEC, "subsampling": "4:4:4"}}
    for run in (other_content, official, other_codec):
        with pytest.raises(ValueError, match="has setting q5 twice, with other results"):
            collect_curves([_jpeg(NEW_RUN), _jpeg(run)])
