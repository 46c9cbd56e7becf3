"""BD values over images that decoded exactly at some qualities (a black or white PNG: PSNR inf
there, so the image is left out of those points' means only): the points' PSNR means were over
6, 7 or 8 images, and the bootstrap path paired an image that had PSNR at any point, so its value
(said to be over 8 paired images) compared other photos at each rate, and ``--bootstrap 0``
gave it marked ``‡``. Both paths now pair the images with a finite value at every point of both
curves, agree, and say how many were left out and why."""

from __future__ import annotations

import json
import math

import numpy as np

from taco.evaluation.bdrate import ImageCurve, bd_bootstrap, bd_metric
from taco.evaluation.plot import plot_results

STEPS = [0.1, 0.2, 0.4, 0.8, 1.6]
EXACT = {("img06.png", "q2"), ("img06.png", "q3"), ("img06.png", "q5"), ("img07.png", "q4")}


def _runs(rd_run, folder, images: int) -> None:
    write_rd_run, synthetic_rd_rows = rd_run
    for codec, label, bits in (("jpeg", "JPEG", 1.6), ("webp", "WebP", 1.3)):
        rows = [r for r in synthetic_rd_rows(bits, STEPS, n=8) if int(r["image"][3:5]) < images]
        for r in rows:
            if codec == "jpeg" and (r["image"], r["setting"]) in EXACT:
                r["psnr"] = math.inf  # decoded exactly
        write_rd_run(folder, codec, label=label, kind="classic", codec=codec, rows=rows)


def _cell(out) -> dict:
    return json.loads(out.with_suffix(".bdrate.json").read_text())["table"]["WebP"]["psnr"]


def test_both_paths_pair_the_images_finite_at_every_point(rd_run, tmp_path):
    _runs(rd_run, tmp_path / "mix" / "val", images=8)
    _runs(rd_run, tmp_path / "six" / "val", images=6)  # the photos that never decoded exactly
    six = plot_results(tmp_path / "six", tmp_path / "out6" / "rd", anchor="JPEG", metrics=["psnr"], reference="none")
    assert six
    expected = _cell(tmp_path / "out6" / "rd")["bd_metric"]
    cells = {}
    for resamples in (0, 100):
        out = tmp_path / f"out{resamples}" / "rd"
        plot_results(tmp_path / "mix", out, anchor="JPEG", metrics=["psnr"], reference="none",
                     bootstrap=resamples)
        cells[resamples] = _cell(out)
        md = out.with_suffix(".bdrate.md").read_text()
        assert "‡" not in md
        assert "6 images (WebP's points: 8, JPEG's: 7/8; 2 left out, without a finite psnr" in md, md
    assert cells[0]["bd_metric"] == cells[100]["bd_metric"] == expected
    assert cells[0]["bd_rate"] == cells[100]["bd_rate"]
    assert cells[0]["images"] == cells[100]["ci_images"] == 6


def test_bd_bootstrap_counts_the_images_left_out():
    names = tuple(f"i{k}" for k in range(7))
    rate = np.tile([0.2, 0.4, 0.8, 1.6], (7, 1)) * np.linspace(0.8, 1.2, 7)[:, None]
    psnr = 30 + 4 * np.log2(rate) + np.arange(7)[:, None]
    exact = psnr.copy()
    exact[6, 3] = math.inf  # the last image decoded exactly at the top quality
    anchor, test = ImageCurve(names, rate, {"psnr": exact}), ImageCurve(names, rate * 0.8, {"psnr": psnr})
    b = bd_bootstrap(anchor, test, "psnr", resamples=0)
    assert (b.images, b.left_out) == (6, 1)
    means = [np.mean(c[:6], axis=0) for c in (rate, psnr, rate * 0.8, psnr)]
    assert math.isclose(b.bd_metric.value, bd_metric(*means).value, rel_tol=1e-12)
    # no image finite everywhere: undefined, saying why (not the points' means over other images)
    exact[:, 0] = math.inf
    b = bd_bootstrap(ImageCurve(names, rate, {"psnr": exact}), test, "psnr", resamples=0)
    assert math.isnan(b.bd_metric.value) and "finite psnr at every point" in b.bd_metric.reason
