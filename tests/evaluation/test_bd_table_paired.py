"""The BD table's value and its interval come from the same images; the cubic fit needs 4 points.

A review found a cell reading ``+2.7786 [+3.2026, +4.4723]``: the value from the JSON points (a
model over 6 images against JPEG over 8), the interval from the 6 images both coded, so the
value lay outside its own interval (and disagreed with scripts/check_targets.py, +3.85). And
``method="cubic"`` fitted a cubic through 2 or 3 points (underdetermined) without a word.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("bjontegaard")

import csv
import os

from taco.errors import TacoValueError
from taco.evaluation.bdrate import (
    ImageCurve,
    bd_bootstrap,
    bd_metric,
    bd_rate,
    bd_table,
    format_bd_table,
)
from taco.evaluation.plot import Curve, image_curve


def curves(n: int = 8, seed: int = 0) -> tuple[ImageCurve, ImageCurve]:
    """An anchor and a 30 % cheaper test over ``n`` images of very different difficulty."""
    rng = np.random.default_rng(seed)
    bpp = np.array([0.1, 0.2, 0.4, 0.8, 1.6]) * rng.lognormal(0.0, 0.5, (n, 1))  # (n, 5)
    psnr = 26.0 + 3.0 * np.log2(bpp / 0.1) + rng.normal(0.0, 3.0, (n, 1)) + rng.normal(0, 0.3, (n, 5))
    names = tuple(f"img{i}" for i in range(n))
    noise = rng.uniform(0.6, 0.8, bpp.shape)
    return ImageCurve(names, bpp, {"psnr": psnr}), ImageCurve(names, bpp * noise, {"psnr": psnr})


def points(c: ImageCurve) -> list[dict[str, float]]:
    """The curve's JSON points: means over its images, with their count (as taco evaluate writes)."""
    return [{"bpp": float(r), "psnr": float(q), "images": len(c.images)}
            for r, q in zip(c.rate.mean(0), c.quality["psnr"].mean(0), strict=True)]


def test_a_value_is_over_the_images_of_its_interval():
    anchor, test = curves()
    # the model coded 6 of the 8 images: its points are means over other images than JPEG's
    # (the two it lacks are the easiest: the JPEG mean curve sits much higher)
    easiest = np.argsort(anchor.quality["psnr"].mean(1))[-2:]
    part = test.select([name for i, name in enumerate(test.images) if i not in easiest])
    table = bd_table({"JPEG": points(anchor), "FAKE": points(part)}, "JPEG", ["psnr"],
                     images={"JPEG": anchor, "FAKE": part}, resamples=300, seed=0)
    cell = table["FAKE"]["psnr"]
    paired = bd_bootstrap(anchor, part, "psnr", resamples=300, seed=0)
    assert cell["bd_rate_low"] <= cell["bd_rate"] <= cell["bd_rate_high"]
    assert cell["bd_metric_low"] <= cell["bd_metric"] <= cell["bd_metric_high"]
    assert cell["bd_rate"] == paired.bd_rate.value and cell["bd_metric"] == paired.bd_metric.value
    assert cell["images"] == cell["ci_images"] == paired.images == 6
    # the points' value (6 images against 8) is another number, outside that interval
    unpaired = bd_metric([p["bpp"] for p in points(anchor)], [p["psnr"] for p in points(anchor)],
                         [p["bpp"] for p in points(part)], [p["psnr"] for p in points(part)]).value
    assert not cell["bd_metric_low"] <= unpaired <= cell["bd_metric_high"]
    md = format_bd_table(table, "JPEG", bootstrap={"resamples": 300, "confidence": 0.95, "seed": 0})
    assert f"{cell['bd_metric']:+.4f} [" in md and "‡" not in md
    assert "FAKE: 6 images (FAKE's points: 6, JPEG's: 8)" in md
    # without resamples the value is the same paired one, with no interval
    plain = bd_table({"JPEG": points(anchor), "FAKE": points(part)}, "JPEG", ["psnr"],
                     images={"JPEG": anchor, "FAKE": part})["FAKE"]["psnr"]
    assert plain["bd_metric"] == pytest.approx(cell["bd_metric"]) and "bd_metric_low" not in plain


def test_points_over_different_images_are_marked_without_per_image_results():
    anchor, test = curves()
    part = test.select(test.images[:6])
    table = bd_table({"JPEG": points(anchor), "FAKE": points(part), "SAME": points(test)}, "JPEG", ["psnr"])
    assert table["FAKE"]["psnr"]["images_differ"] == "FAKE 6, JPEG 8"
    assert "images_differ" not in table["SAME"]["psnr"]
    md = format_bd_table(table, "JPEG")
    fake = next(line for line in md.splitlines() if line.startswith("| FAKE |"))
    same = next(line for line in md.splitlines() if line.startswith("| SAME |"))
    assert fake.count("‡") == 2 and "‡" not in same
    assert "different numbers of images" in md and "FAKE 6, JPEG 8." in md


def test_the_paired_value_of_the_same_images_is_the_points_value():
    anchor, test = curves()
    with_images = bd_table({"JPEG": points(anchor), "T": points(test)}, "JPEG", ["psnr"],
                           images={"JPEG": anchor, "T": test}, resamples=50)["T"]["psnr"]
    from_points = bd_table({"JPEG": points(anchor), "T": points(test)}, "JPEG", ["psnr"])["T"]["psnr"]
    assert with_images["bd_rate"] == pytest.approx(from_points["bd_rate"], rel=1e-9)
    assert "images_paired" not in with_images and "images_differ" not in from_points


# two straight lines (PSNR linear in log rate): the exact deltas are those of the lines
LINE_R, LINE_Q = [0.1, 0.2, 0.4], [26.0, 29.5, 32.0]
LINE_RT, LINE_QT = [0.1, 0.25, 0.4], [26.5, 29.0, 32.5]


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("delta", [bd_rate, bd_metric])
def test_the_cubic_fit_needs_four_points(delta, n):
    args = (LINE_R[:n] if n == 3 else [0.1, 0.4], LINE_Q[:n] if n == 3 else [26.0, 32.0],
            LINE_RT[:n] if n == 3 else [0.1, 0.4], LINE_QT[:n] if n == 3 else [26.5, 32.5])
    with pytest.raises(TacoValueError, match=f"at least 4 points per curve: the anchor has {n} usable"):
        delta(*args, method="cubic")
    assert not math.isnan(delta(*args, method="pchip").value)  # pchip is fine with them


def test_four_points_are_enough_and_the_bootstrap_refuses_fewer():
    four = ([0.1, 0.2, 0.4, 0.8], [26.0, 29.0, 32.0, 35.0])
    assert bd_rate(*four, [r * 0.8 for r in four[0]], four[1], method="cubic").value == pytest.approx(-20.0)
    anchor, test = curves()
    three = ImageCurve(anchor.images, anchor.rate[:, :3], {"psnr": anchor.quality["psnr"][:, :3]})
    with pytest.raises(TacoValueError, match="the test has 3 usable points"):
        bd_bootstrap(anchor, three, "psnr", resamples=10, method="cubic")
    cell = bd_table({"A": points(anchor), "T": points(three)}, "A", ["psnr"], method="cubic")["T"]["psnr"]
    assert math.isnan(cell["bd_rate"]) and "need at least 4 for the cubic fit" in cell["reason"]


def test_a_curve_too_short_for_a_cubic_fit_is_its_own_undefined_cell():
    """bd_table with method cubic raised for the whole table when one curve had 3 points (the
    TacoValueError of bd_rate, naming no label): that cell is undefined, saying why, the others
    are computed."""
    def curve(rates, scale=1.0):
        return [{"bpp": b * scale, "psnr": 30 + 5 * math.log2(b)} for b in rates]

    table = bd_table({"A": curve((0.1, 0.2, 0.4, 0.8, 1.6)), "T": curve((0.1, 0.2, 0.4), 0.9),
                      "U": curve((0.1, 0.2, 0.4, 0.8), 0.9)}, "A", ["psnr"], method="cubic")
    assert math.isnan(table["T"]["psnr"]["bd_rate"])
    assert "need at least 4 for the cubic fit" in table["T"]["psnr"]["reason"]
    assert table["U"]["psnr"]["bd_rate"] == pytest.approx(-10, abs=1e-6)


def test_csv_rows_beyond_the_results_image_count_are_not_paired(tmp_path):
    """The CSV row with index == the result's image count belongs to an earlier, larger run."""
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
