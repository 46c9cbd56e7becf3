"""Mutation round 7b: behaviour of taco.evaluation.bdrate and taco.evaluation.plot that no test
pinned (each test names the mutant it kills)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from taco.errors import TacoWarning
from taco.evaluation.bdrate import ImageCurve, bd_bootstrap, bd_table, format_bd_table
from taco.evaluation.plot import Curve, collect_curves, image_curve, plot_results


def _jpeg(path: str, fid: float | None) -> dict:
    return {"_path": path, "dataset": {"name": "kodak"}, "label": "JPEG", "kind": "classic", "codec": "jpeg",
            "run": {"codec": "jpeg"},
            "points": [{"setting": "q10", "bpp": 0.3, "psnr": 27.0, "fid": fid},
                       {"setting": "q50", "bpp": 0.9, "psnr": 33.0, "fid": fid and fid / 2}]}


@pytest.mark.parametrize("order", [(40.0, None), (None, 40.0)])
def test_a_run_with_fid_and_its_copy_with_fid_off_merge_in_either_order(order):
    """P09: a point without FID agrees with one that has it, whichever comes first."""
    curves = collect_curves([_jpeg("a/JPEG.json", order[0]), _jpeg("b/JPEG.json", order[1])])["kodak"]
    assert [(c.label, len(c.points)) for c in curves] == [("JPEG", 2)]


def _exact_curves(exact_rows=None, exact_cols=None):
    rng = np.random.default_rng(0)
    n = 10
    names = tuple(f"im{i}" for i in range(n))
    rate = np.sort(rng.uniform(0.1, 2, (n, 4)), axis=1)
    qa = 25 + 5 * np.log2(rate) + rng.normal(0, 0.3, (n, 4))
    qt = qa + 1.0
    if exact_rows is not None:
        qt[exact_rows, :] = np.inf
    if exact_cols is not None:
        qt[:, exact_cols] = np.inf
    return n, rate, qa, qt, ImageCurve(names, rate, {"psnr": qa}), ImageCurve(names, rate, {"psnr": qt})


def _points(n, rate, q):
    out = []
    for j in range(rate.shape[1]):
        ok = np.isfinite(q[:, j])
        p = {"bpp": float(rate[:, j].mean()), "psnr": float(q[ok, j].mean()) if ok.any() else None, "images": n}
        if not ok.all():
            p["psnr_images"] = int(ok.sum())
        out.append(p)
    return out


def test_no_image_pairs_when_every_image_is_exact_at_the_tests_top_point():
    """B17: every shared image left out (PSNR inf) gives n/a with the reason, not a BD-rate from
    the points' means."""
    n, rate, qa, qt, a, t = _exact_curves(exact_cols=3)
    cell = bd_table({"JPEG": _points(n, rate, qa), "X": _points(n, rate, qt)}, "JPEG", ("psnr",),
                    images={"JPEG": a, "X": t}, resamples=0)["X"]["psnr"]
    assert not np.isfinite(cell["bd_rate"])
    assert "no image the two curves share has a finite psnr" in cell["reason"]
    assert "10 left out" in cell["images_paired"]


def test_an_image_exact_at_every_test_point_is_counted_as_left_out():
    """B15: an image with no finite value on one curve only is still counted in left_out."""
    n, rate, qa, qt, a, t = _exact_curves(exact_rows=0)
    assert bd_bootstrap(a, t, "psnr", resamples=0).left_out == 1
    cell = bd_table({"JPEG": _points(n, rate, qa), "X": _points(n, rate, qt)}, "JPEG", ("psnr",),
                    images={"JPEG": a, "X": t}, resamples=0)["X"]["psnr"]
    assert "1 left out" in cell["images_paired"] and "PSNR is inf" in cell["images_paired"]


def test_csv_rows_beyond_the_results_image_count_are_not_paired(tmp_path):
    """P08: the CSV row with index == the result's image count belongs to an earlier, larger run."""
    with open(tmp_path / "JPEG.csv", "w", newline="") as f:
        w = csv.DictWriter(f, ["index", "image", "setting", "bpp", "psnr"])
        w.writeheader()
        for s, b in (("q10", 0.2), ("q50", 0.6)):
            for i in range(3):
                w.writerow({"index": i, "image": f"kodim0{i + 1}", "setting": s, "bpp": b + i / 100, "psnr": 30 + b})
    r = {"_path": os.path.join(tmp_path, "JPEG.json"), "csv": "JPEG.csv", "dataset": {"images": 2},
         "points": [{"setting": "q10", "bpp": 0.205}, {"setting": "q50", "bpp": 0.605}]}
    ic = image_curve(Curve("JPEG", "classic", "jpeg", sources=[r]), ("psnr",))
    assert ic is not None and ic.images == ("kodim01", "kodim02")


def test_a_run_without_fid_values_measures_fid_in_no_other_way(tmp_path):
    """P10: a result recording its FID mode but no FID value does not make FID 'mixed'."""
    def result(codec, mode, fids, scale):
        return {"format": "taco-eval", "version": 1, "kind": "classic", "label": codec.upper(), "codec": codec,
                "dataset": {"name": "val", "kind": "folder", "images": 4, "crop": "none"},
                "run": {"codec": {"name": codec}, "dataset": {"name": "val", "kind": "folder", "crop": "none"}},
                "set_metrics": {"fid": {"computed": True, "mode": mode}, "cmmd": {"computed": False}},
                "points": [{"setting": f"q{q}", "images": 4, "bpp": scale * b, "psnr": p, "fid": f}
                           for q, b, p, f in zip((20, 50, 80), (0.4, 0.8, 1.5), (28.0, 31.0, 34.0), fids,
                                                 strict=True)]}
    folder = tmp_path / "eval"
    folder.mkdir()
    (folder / "jpeg.json").write_text(json.dumps(result("jpeg", "whole images resized", (60.0, 30.0, 12.0), 1.0)))
    (folder / "webp.json").write_text(json.dumps(result("webp", "256x256 patches", (None, None, None), 0.8)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plot_results([folder], tmp_path / "rd", metrics=("psnr", "fid"))
    assert [str(w.message) for w in caught if issubclass(w.category, TacoWarning)] == []
    assert "FID" in (tmp_path / "rd.svg").read_text()


def test_a_matched_run_missing_the_rate_by_a_fifth_is_closest_reachable():
    """P02: a gap of 20 % of the model's bpp (over the 5 % threshold) is labelled."""
    r = {"dataset": {"name": "kodak"}, "label": "JPEG @ model", "kind": "classic-matched", "codec": "jpeg",
         "bpp_gap": {"mean_abs": 0.04}, "points": [{"bpp": 0.2, "psnr": 28.0}], "matched_to_label": "taco"}
    assert [c.label for c in collect_curves([r])["kodak"]] == ["JPEG @ model (closest reachable)"]


def test_an_overlap_of_exactly_a_fifth_gets_no_dagger():
    """B20: the thin-overlap mark is for less than 20 %, not 20 % itself."""
    anchor = [{"bpp": 0.2, "psnr": 30.0}, {"bpp": 0.4, "psnr": 35.0}, {"bpp": 0.8, "psnr": 40.0}]
    test = [{"bpp": 0.3, "psnr": 38.0}, {"bpp": 0.6, "psnr": 40.0}]
    table = bd_table({"JPEG": anchor, "X": test}, "JPEG", ("psnr",))
    assert table["X"]["psnr"]["overlap"] == pytest.approx(0.2)
    text = format_bd_table(table, "JPEG")
    assert "†" not in text and "less than 20 %" not in text


_NO_CI = """
import numpy as np
from taco.evaluation.bdrate import ImageCurve, bd_table, format_bd_table
rng = np.random.default_rng(0)
names = tuple(f"im{i}" for i in range(4))
rate = np.sort(rng.uniform(0.1, 2, (4, 4)), axis=1)
q = 25 + 5 * np.log2(rate) + rng.normal(0, .3, (4, 4))
lp = 0.5 - q / 100
lp[3] = np.nan
a, t = ImageCurve(names, rate, {"psnr": q, "lpips": lp}), ImageCurve(names, rate * 0.8, {"psnr": q, "lpips": lp})
pts = lambda c: [{"bpp": float(b), "psnr": float(p), "lpips": float(l), "images": 4} for b, p, l in
                 zip(c.rate.mean(0), c.quality["psnr"].mean(0), np.nanmean(c.quality["lpips"], 0))]
tab = bd_table({"JPEG": pts(a), "X": pts(t)}, "JPEG", ("psnr", "lpips"), images={"JPEG": a, "X": t}, resamples=200)
out = format_bd_table(tab, "JPEG", bootstrap={"resamples": 200, "confidence": 0.95, "seed": 0})
print([l for l in out.splitlines() if l.startswith("no interval")][0])
"""


def test_the_no_interval_note_lists_its_reasons_in_one_order():
    """B21: the reasons are sorted, so the table reads the same whatever PYTHONHASHSEED is."""
    lines = set()
    for seed in ("0", "3"):  # 3: a set of the two reasons iterates unsorted
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", _NO_CI], env=env, capture_output=True, text=True, check=True)
        lines.add(out.stdout.strip())
    assert lines == {"no interval: 3 paired images: a 95 % interval needs at least 6; "
                     "4 paired images: a 95 % interval needs at least 6."}


def test_a_reason_shared_by_both_deltas_is_said_once():
    """B23: one reason for BD-rate and BD-psnr alike is one note line."""
    anchor = [{"bpp": 0.2, "psnr": 30.0}]
    test = [{"bpp": 0.3, "psnr": 38.0}, {"bpp": 0.6, "psnr": 40.0}]
    notes = format_bd_table(bd_table({"JPEG": anchor, "X": test}, "JPEG", ("psnr",)), "JPEG").split("n/a:")[1]
    assert "- X, psnr: anchor has 1 usable point; need at least 2" in notes
    assert "BD-rate:" not in notes and notes.count("anchor has 1 usable point") == 1


def test_points_counting_every_image_are_not_an_older_result():
    """B01: psnr_images == images means no image was left out: each curve keeps its own rate."""
    anchor = [{"bpp": b, "psnr": q, "images": 8, "psnr_images": 8} for b, q in ((0.2, 28), (0.4, 31), (0.8, 34), (1.6, 37))]
    test = [{"bpp": b, "bpp_psnr": b * 0.8, "psnr": q, "images": 8, "psnr_images": 6}
            for b, q in ((0.2, 29), (0.4, 32), (0.8, 35), (1.6, 38))]
    cell = bd_table({"JPEG": anchor, "FAKE": test}, "JPEG", metrics=("psnr",))["FAKE"]["psnr"]
    assert "rate_all_images" not in cell
    assert cell["bd_rate"] == pytest.approx(-36.504, abs=0.01)
