"""A result file writes a metric it could not measure as null ("fid": null with fewer than two
images): bd_table takes such a point as missing (NaN, with the reason), where float(None) was a
TypeError that ended taco plot."""

from __future__ import annotations

import math

from taco.evaluation.bdrate import bd_table


def test_a_null_metric_is_a_missing_value_not_a_crash():
    anchor = [{"bpp": b, "psnr": 30 + 10 * b, "fid": None} for b in (0.2, 0.4, 0.6, 0.8)]
    other = [{"bpp": b, "psnr": 31 + 10 * b, "fid": 10.0 - b} for b in (0.2, 0.4, 0.6, 0.8)]
    table = bd_table({"A": anchor, "B": other}, "A", metrics=("psnr", "fid"))
    assert math.isnan(table["B"]["fid"]["bd_rate"])
    assert "usable points" in str(table["B"]["fid"]["reason"])
    assert abs(float(table["B"]["psnr"]["bd_metric"]) - 1.0) < 1e-9  # the other metrics as before
