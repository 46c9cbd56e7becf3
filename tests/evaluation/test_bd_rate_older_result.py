"""An older result (a point's ``ms_ssim_images`` below its ``images`` but no ``bpp_ms_ssim``)
beside a newer one: bd_table and the figure used each point's own rate, the older one's over
all images against the newer one's over the images with MS-SSIM (BD-rate -45.79 % for a true
-20 %, unmarked). Now both curves are at their bpp over all images, and the cell (``§``) and
the panel's axis say so (taco.evaluation.bdrate.rate_metric)."""

from __future__ import annotations

import json
import math

import pytest

from taco.evaluation.bdrate import bd_table, format_bd_table, rate_metric
from taco.evaluation.measure import summarize_rows
from taco.evaluation.plot import plot_results

#: image -> its bpp as a multiple of the setting's; cat (131 x 97 px) has no MS-SSIM
IMAGES = {"astro": 1.0, "cat": 3.0, "coffee": 1.2, "rocket": 0.9}


def rows(scale: float) -> list[list[dict[str, str]]]:
    """Per-image CSV rows per setting (tests/evaluation/test_bd_metric_images.py's fixture): the
    codec needs ``scale`` times the anchor's bits on the large images, the same on cat."""
    out = []
    for r in (0.2, 0.4, 0.8, 1.6):
        quality = 0.8 + 0.05 * math.log2(r / 0.2)
        out.append([{"image": name, "bpp": repr(r * mult * (1.0 if name == "cat" else scale)),
                     "height": "97" if name == "cat" else "512", "width": "131" if name == "cat" else "768",
                     "bytes": "1000", "psnr": repr(30 + 100 * (quality - 0.8)), "lpips": "0.1",
                     "ms_ssim": "nan" if name == "cat" else repr(quality)} for name, mult in IMAGES.items()])
    return out


ANCHOR, TEST = rows(1.0), rows(0.8)  # the test saves 20 % on the large images


def points(settings) -> list[dict]:
    return [summarize_rows(s) for s in settings]


def older(settings) -> list[dict]:
    return [{k: v for k, v in p.items() if not k.startswith("bpp_")} for p in points(settings)]


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


def test_the_plot_marks_a_panel_at_the_rate_of_all_images(tmp_path, monkeypatch):
    from matplotlib.axes import Axes

    drawn = []  # (axes, x, y) of every line
    plot = Axes.plot

    def recording(self, *args, **kwargs):
        drawn.append((self, list(args[0]), list(args[1])))
        return plot(self, *args, **kwargs)

    monkeypatch.setattr(Axes, "plot", recording)
    for label, pts in (("JPEG", older(ANCHOR)), ("WebP", points(TEST))):
        result = {"format": "taco-eval", "version": 1, "kind": "classic", "label": label,
                  "codec": label.lower(), "dataset": {"name": "ds", "kind": "folder", "images": 4},
                  "points": [{"setting": f"q{i}", **p} for i, p in enumerate(pts)]}
        (tmp_path / f"{label}.json").write_text(json.dumps(result))
    plot_results(tmp_path, tmp_path / "out" / "rd", anchor="JPEG", reference="none")
    table = json.loads((tmp_path / "out" / "rd.bdrate.json").read_text())["table"]
    assert "JPEG without bpp_ms_ssim" in table["WebP"]["ms_ssim"]["rate_all_images"]
    assert "§" in (tmp_path / "out" / "rd.bdrate.md").read_text()
    webp = points(TEST)
    lines = {(ax.get_ylabel().split()[0], tuple(y)): (ax.get_xlabel(), x) for ax, x, y in drawn}
    label, x = lines[("MS-SSIM", tuple(p["ms_ssim"] for p in webp))]
    assert x == [p["bpp"] for p in webp] and "all images" in label and "bpp_ms_ssim" in label
    label, x = lines[("PSNR", tuple(p["psnr"] for p in webp))]
    assert x == [p["bpp"] for p in webp] and label == "bits per pixel"
