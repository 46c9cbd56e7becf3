"""``taco plot DIR1 DIR2`` where both folders hold the same classic run, one of them with FID:
the same results once (the one with FID), not refused as "setting q20 twice, with other
results" (taco.evaluation.plot.collect_curves)."""

from __future__ import annotations

import json

import pytest

from taco.evaluation.plot import collect_curves, load_results, plot_results

RUN = {"codec": {"name": "jpeg", "subsampling": "4:2:0"},
       "dataset": {"name": "val", "kind": "folder", "crop": "none", "content": "abc"},
       "captioner": None, "lpips_input": "standard", "label": "JPEG"}
POINTS = [{"setting": "q20", "images": 4, "bpp": 0.4, "psnr": 28.0, "ms_ssim": 0.93, "lpips": 0.20},
          {"setting": "q50", "images": 4, "bpp": 0.8, "psnr": 31.0, "ms_ssim": 0.96, "lpips": 0.10}]


def _jpeg(points, set_metrics=()) -> dict:
    return {"format": "taco-eval", "version": 1, "kind": "classic", "label": "JPEG", "codec": "jpeg",
            "dataset": {"name": "val", "kind": "folder", "images": 4, "crop": "none"},
            "run": {**RUN, "set_metrics": list(set_metrics)}, "points": points}


def _with_fid(fids) -> dict:
    return _jpeg([{**p, "fid": f} for p, f in zip(POINTS, fids, strict=True)], ["fid"])


def test_the_same_run_with_and_without_fid_is_one_curve_with_fid():
    plain, fid = _jpeg(POINTS), _with_fid([60.0, 30.0])
    for results in ([plain, fid], [fid, plain]):  # either order: the run with FID is kept
        (curve,) = collect_curves(results)["val"]
        assert curve.sources == [fid]
        assert [(p["setting"], p.get("fid")) for p in curve.points] == [("q20", 60.0), ("q50", 30.0)]
    # a null FID (not computed) is no difference either
    nulls = _jpeg([{**p, "fid": None} for p in POINTS])
    assert collect_curves([nulls, fid])["val"][0].sources == [fid]


def test_runs_that_differ_where_both_have_a_value_are_still_refused():
    other = _jpeg([{**POINTS[0], "psnr": 28.5}, POINTS[1]])
    with pytest.raises(ValueError, match="has setting q20 twice, with other results"):
        collect_curves([_with_fid([60.0, 30.0]), other])
    with pytest.raises(ValueError, match="has setting q20 twice, with other results"):
        collect_curves([_with_fid([60.0, 30.0]), _with_fid([61.0, 30.0])])  # FID differs
    # another configuration of the run (here JPEG's chroma subsampling) is not the same run
    run444 = {**_jpeg(POINTS), "run": {**RUN, "codec": {"name": "jpeg", "subsampling": "4:4:4"},
                                       "set_metrics": []}}
    with pytest.raises(ValueError, match="has setting q20 twice"):
        collect_curves([_with_fid([60.0, 30.0]), run444])


def test_plot_two_folders_sharing_a_run(tmp_path):
    for name, data in (("a", _jpeg(POINTS)), ("b", _with_fid([60.0, 30.0]))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "jpeg.json").write_text(json.dumps(data), encoding="utf-8")
    folders = [tmp_path / "a", tmp_path / "b"]
    (curve,) = collect_curves(load_results(folders))["val"]
    assert curve.sources[0]["_path"].endswith("b/jpeg.json") and len(curve.points) == 2
    written = plot_results(folders, tmp_path / "fig")
    assert (tmp_path / "fig.png").is_file(), written


def _jpeg_with_fid(path: str, fid: float | None) -> dict:
    return {"_path": path, "dataset": {"name": "kodak"}, "label": "JPEG", "kind": "classic", "codec": "jpeg",
            "run": {"codec": "jpeg"},
            "points": [{"setting": "q10", "bpp": 0.3, "psnr": 27.0, "fid": fid},
                       {"setting": "q50", "bpp": 0.9, "psnr": 33.0, "fid": fid and fid / 2}]}


@pytest.mark.parametrize("order", [(40.0, None), (None, 40.0)])
def test_a_run_with_fid_and_its_copy_with_fid_off_merge_in_either_order(order):
    """A point without FID agrees with one that has it, whichever comes first."""
    curves = collect_curves([_jpeg_with_fid("a/JPEG.json", order[0]), _jpeg_with_fid("b/JPEG.json", order[1])])["kodak"]
    assert [(c.label, len(c.points)) for c in curves] == [("JPEG", 2)]
