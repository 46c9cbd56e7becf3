"""The BD table names the interpolation it was computed with (rd.bdrate.json records it as
``method``; the Markdown table did not say it)."""

from __future__ import annotations

import json

from taco.evaluation.bdrate import bd_table, format_bd_table
from taco.evaluation.plot import plot_results

CURVES = {
    "JPEG": [{"bpp": r, "psnr": p} for r, p in ((0.25, 28.0), (0.5, 31.0), (1.0, 34.0))],
    "WebP": [{"bpp": r, "psnr": p} for r, p in ((0.2, 28.0), (0.4, 31.0), (0.8, 34.0))],
}


def test_header_names_the_method():
    header = format_bd_table(bd_table(CURVES, "JPEG", ["psnr"]), "JPEG").splitlines()[0]
    assert header.startswith("Anchor: **JPEG**.")
    assert header.endswith("Curves interpolated by pchip (piecewise cubic Hermite).")
    cubic = format_bd_table(bd_table(CURVES, "JPEG", ["psnr"], method="akima"), "JPEG", method="akima")
    assert "Curves interpolated by akima (Akima spline)." in cubic.splitlines()[0]


def test_plot_table_names_the_method_it_records(tmp_path, points_runs):
    points_runs(tmp_path, CURVES, images=3)
    plot_results(tmp_path, tmp_path / "out" / "rd", anchor="JPEG", reference="none")
    method = json.loads((tmp_path / "out" / "rd.bdrate.json").read_text())["method"]
    assert f"Curves interpolated by {method} (" in (tmp_path / "out" / "rd.bdrate.md").read_text()
