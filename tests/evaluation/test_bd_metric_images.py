"""A curve point's rate and a metric's mean over the same images.

MS-SSIM is NaN under 161 px and PSNR infinite for an exact decode: their means leave those
images out, and the rate beside them used to be the mean bpp of all images, so the MS-SSIM
panel, the BD table and the bootstrap compared a rate and a quality of different image sets.
Now a summary point has ``bpp_<metric>`` (the bpp of that metric's images) where they are fewer
than all, and bd_table, bd_bootstrap and the figure use it (taco.evaluation.measure,
taco.evaluation.bdrate, taco.evaluation.plot).

An older result (``ms_ssim_images`` below ``images`` but no ``bpp_ms_ssim``) beside a newer one
was compared at each point's own rate, the older one's over all images against the newer one's
over the images with MS-SSIM (BD-rate -45.79 % for a true -20 %, unmarked): now both curves are
at their bpp over all images, and the cell (``§``) and the panel's axis say so
(taco.evaluation.bdrate.rate_metric)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from taco.evaluation.bdrate import (
    ImageCurve,
    bd_bootstrap,
    bd_rate,
    bd_table,
    format_bd_table,
    metric_bpp,
    rate_metric,
)
from taco.evaluation.measure import summarize_rows
from taco.evaluation.plot import plot_results

RATES = (0.2, 0.4, 0.8, 1.6)  # the anchor's settings
#: image -> (its bpp as a multiple of the setting's, its quality offset); cat is 131 x 97 px
IMAGES = {"astro": (1.0, 0.0), "cat": (3.0, 0.02), "coffee": (1.2, -0.01), "rocket": (0.9, 0.01)}
SMALL = {"cat"}


def rows(scale: float, small_scale: float, images=IMAGES) -> list[list[dict[str, str]]]:
    """One list of per-image CSV rows per setting: the test codec needs ``scale`` times the
    anchor's bits for the same quality, ``small_scale`` times on the small images."""
    out = []
    for r in RATES:
        setting = []
        for name, (mult, offset) in images.items():
            bpp = r * mult * (small_scale if name in SMALL else scale)
            quality = 0.8 + 0.05 * math.log2(r / 0.2) + offset  # the anchor's at its own rate
            setting.append({"image": name, "bpp": repr(bpp), "height": "97" if name in SMALL else "512",
                            "width": "131" if name in SMALL else "768", "bytes": "1000",
                            "psnr": repr(30 + 100 * (quality - 0.8)), "lpips": "0.1",
                            "ms_ssim": "nan" if name in SMALL else repr(quality)})
        out.append(setting)
    return out


def points(settings):
    return [summarize_rows(s) for s in settings]


def older(settings) -> list[dict]:
    """The points an older taco wrote: no ``bpp_<metric>``."""
    return [{k: v for k, v in p.items() if not k.startswith("bpp_")} for p in points(settings)]


def plotted(tmp_path, monkeypatch, points_runs, curves) -> list:
    """``taco plot`` of classic results with these points (no CSV, so the points decide): the
    (axes, x, y) of every line it drew."""
    from matplotlib.axes import Axes

    drawn = []
    plot = Axes.plot

    def recording(self, *args, **kwargs):
        drawn.append((self, list(args[0]), list(args[1])))
        return plot(self, *args, **kwargs)

    monkeypatch.setattr(Axes, "plot", recording)
    points_runs(tmp_path, curves, images=4)
    plot_results(tmp_path, tmp_path / "out" / "rd", anchor="JPEG", reference="none")
    return drawn


def image_curve(settings) -> ImageCurve:
    names = tuple(r["image"] for r in settings[0])

    def values(key):  # (images, points)
        return np.array([[float(s[i][key]) for s in settings] for i in range(len(names))])

    return ImageCurve(names, values("bpp"), {m: values(m) for m in ("psnr", "ms_ssim")})


ANCHOR, TEST = rows(1.0, 1.0), rows(0.8, 1.0)  # the test saves 20 % on the large images only


def test_a_point_has_the_bpp_of_the_images_of_each_mean():
    p = summarize_rows(ANCHOR[0])
    assert p["images"] == 4 and p["ms_ssim_images"] == 3
    assert p["bpp"] == pytest.approx(0.2 * (1 + 3 + 1.2 + 0.9) / 4)
    assert p["bpp_ms_ssim"] == pytest.approx(0.2 * (1 + 1.2 + 0.9) / 3)
    assert "bpp_psnr" not in p and "psnr_images" not in p  # every image counted: bpp is its rate
    assert metric_bpp(p, "ms_ssim") == p["bpp_ms_ssim"] and metric_bpp(p, "psnr") == p["bpp"]
    assert metric_bpp({"bpp": 0.5}, "ms_ssim") == 0.5  # an older result: its bpp


def test_bd_table_from_points_compares_the_same_images():
    table = bd_table({"A": points(ANCHOR), "T": points(TEST)}, "A", ["psnr", "ms_ssim"])
    assert table["T"]["ms_ssim"]["bd_rate"] == pytest.approx(-20.0)  # the three large images
    assert "images_differ" not in table["T"]["ms_ssim"]
    # before: the rate of all four images against the MS-SSIM of three
    a, t = points(ANCHOR), points(TEST)
    old = bd_rate([p["bpp"] for p in a], [p["ms_ssim"] for p in a],
                  [p["bpp"] for p in t], [p["ms_ssim"] for p in t]).value
    assert abs(old - -20.0) > 3
    # PSNR is over all four: the small image's unchanged bits count
    assert table["T"]["psnr"]["bd_rate"] > -20.0 + 3


def test_bootstrap_averages_the_rate_over_the_images_with_the_metric():
    a, t = image_curve(ANCHOR), image_curve(TEST)
    b = bd_bootstrap(a, t, "ms_ssim", resamples=50)
    assert b.images == 3 and b.bd_rate.value == pytest.approx(-20.0)
    assert b.bd_rate.ci_reason.startswith("3 paired images")  # the floor counts images with MS-SSIM
    assert bd_bootstrap(a, t, "psnr", resamples=0).images == 4
    # the table's value is the same from per-image results and from points
    paired = bd_table({"A": points(ANCHOR), "T": points(TEST)}, "A", ["ms_ssim"], images={"A": a, "T": t})
    assert paired["T"]["ms_ssim"]["bd_rate"] == pytest.approx(-20.0)
    assert paired["T"]["ms_ssim"]["images"] == 3 and "images_paired" not in paired["T"]["ms_ssim"]


def test_the_six_image_floor_counts_images_with_the_metric():
    six = {**IMAGES, "moon": (1.1, 0.0), "sun": (0.8, -0.02)}  # five large, one small
    seven = {**six, "tree": (1.3, 0.005)}  # six large
    for images, interval in ((six, False), (seven, True)):
        a, t = image_curve(rows(1.0, 1.0, images)), image_curve(rows(0.8, 1.0, images))
        b = bd_bootstrap(a, t, "ms_ssim", resamples=100)  # MIN_RESAMPLES: fewer give no interval
        assert b.images == len(images) - 1 and (b.bd_rate.ci_reason == "") == interval


def test_plot_uses_the_rate_of_the_metric(tmp_path, monkeypatch, points_runs):
    drawn = plotted(tmp_path, monkeypatch, points_runs, {"JPEG": points(ANCHOR), "WebP": points(TEST)})
    table = json.loads((tmp_path / "out" / "rd.bdrate.json").read_text())["table"]
    assert table["WebP"]["ms_ssim"]["bd_rate"] == pytest.approx(-20.0)
    webp = points(TEST)
    lines = {(ax.get_ylabel().split()[0], tuple(y)): x for ax, x, y in drawn}
    assert lines[("MS-SSIM", tuple(p["ms_ssim"] for p in webp))] == [p["bpp_ms_ssim"] for p in webp]
    assert lines[("PSNR", tuple(p["psnr"] for p in webp))] == [p["bpp"] for p in webp]


def test_a_pair_with_an_older_result_is_compared_at_the_rate_of_all_images():
    both_old = bd_table({"A": older(ANCHOR), "T": older(TEST)}, "A", ["ms_ssim"])["T"]["ms_ssim"]
    for anchor, test in ((older(ANCHOR), points(TEST)), (points(ANCHOR), older(TEST))):
        assert rate_metric([anchor, test], "ms_ssim") == "bpp"
        table = bd_table({"A": anchor, "T": test}, "A", ["ms_ssim", "psnr"])
        cell = table["T"]["ms_ssim"]
        assert cell["bd_rate"] == pytest.approx(both_old["bd_rate"])  # not -45.79 or +32.58
        assert "without bpp_ms_ssim" in cell["rate_all_images"]
        assert "rate_all_images" not in table["T"]["psnr"]  # PSNR's mean is over all images
        text = format_bd_table(table, "A")
        assert f"{cell['bd_rate']:+.2f} §" in text and "§: rate over all images" in text
    new = bd_table({"A": points(ANCHOR), "T": points(TEST)}, "A", ["ms_ssim"])["T"]["ms_ssim"]
    assert new["bd_rate"] == pytest.approx(-20.0) and "rate_all_images" not in new
    assert rate_metric([points(ANCHOR), points(TEST)], "ms_ssim") == "ms_ssim"


def test_the_plot_marks_a_panel_at_the_rate_of_all_images(tmp_path, monkeypatch, points_runs):
    drawn = plotted(tmp_path, monkeypatch, points_runs, {"JPEG": older(ANCHOR), "WebP": points(TEST)})
    table = json.loads((tmp_path / "out" / "rd.bdrate.json").read_text())["table"]
    assert "JPEG without bpp_ms_ssim" in table["WebP"]["ms_ssim"]["rate_all_images"]
    assert "§" in (tmp_path / "out" / "rd.bdrate.md").read_text()
    webp = points(TEST)
    lines = {(ax.get_ylabel().split()[0], tuple(y)): (ax.get_xlabel(), x) for ax, x, y in drawn}
    label, x = lines[("MS-SSIM", tuple(p["ms_ssim"] for p in webp))]
    assert x == [p["bpp"] for p in webp] and "all images" in label and "bpp_ms_ssim" in label
