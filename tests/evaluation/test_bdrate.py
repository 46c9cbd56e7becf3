"""Bjøntegaard deltas (taco.evaluation.bdrate)."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("bjontegaard")

from taco.evaluation.bdrate import bd_metric, bd_rate, bd_table, format_bd_table

# A typical 4-point RD curve (rates in kbit/s, PSNR in dB): the example of the bjontegaard package.
RATE = [9487.76, 4593.60, 2486.44, 1358.24]
PSNR = [40.037, 38.615, 36.845, 34.851]
RATE_T = [9787.80, 4469.00, 2451.52, 1356.24]
PSNR_T = [40.121, 38.651, 36.970, 34.987]


def vceg_bd_rate(r1, p1, r2, p2):
    """The original VCEG-M33 formula: cubic polynomial fits of log-rate over PSNR, integrated."""
    lr1, lr2 = np.log(r1), np.log(r2)
    c1, c2 = np.polyfit(p1, lr1, 3), np.polyfit(p2, lr2, 3)
    lo, hi = max(min(p1), min(p2)), min(max(p1), max(p2))
    i1, i2 = np.polyint(c1), np.polyint(c2)
    avg = ((np.polyval(i2, hi) - np.polyval(i2, lo)) - (np.polyval(i1, hi) - np.polyval(i1, lo))) / (hi - lo)
    return (np.exp(avg) - 1) * 100


def vceg_bd_psnr(r1, p1, r2, p2):
    lr1, lr2 = np.log(r1), np.log(r2)
    c1, c2 = np.polyfit(lr1, p1, 3), np.polyfit(lr2, p2, 3)
    lo, hi = max(min(lr1), min(lr2)), min(max(lr1), max(lr2))
    i1, i2 = np.polyint(c1), np.polyint(c2)
    return ((np.polyval(i2, hi) - np.polyval(i2, lo)) - (np.polyval(i1, hi) - np.polyval(i1, lo))) / (hi - lo)


@pytest.mark.parametrize("method", ["pchip", "cubic", "akima"])
def test_curve_against_itself_is_zero(method):
    assert bd_rate(RATE, PSNR, RATE, PSNR, method).value == pytest.approx(0.0, abs=1e-9)
    assert bd_metric(RATE, PSNR, RATE, PSNR, method).value == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("method", ["pchip", "cubic"])
def test_known_shifts(method):
    # 20% fewer bits at every quality -> BD-rate -20 %; +0.5 dB at every rate -> BD-PSNR +0.5
    assert bd_rate(RATE, PSNR, [0.8 * r for r in RATE], PSNR, method).value == pytest.approx(-20.0)
    assert bd_metric(RATE, PSNR, RATE, [p + 0.5 for p in PSNR], method).value == pytest.approx(0.5)


def test_cubic_matches_the_vceg_formula():
    assert bd_rate(RATE, PSNR, RATE_T, PSNR_T, "cubic").value == pytest.approx(
        vceg_bd_rate(RATE, PSNR, RATE_T, PSNR_T), rel=1e-9)
    assert bd_metric(RATE, PSNR, RATE_T, PSNR_T, "cubic").value == pytest.approx(
        vceg_bd_psnr(RATE, PSNR, RATE_T, PSNR_T), rel=1e-9)
    # the test codec is slightly better: fewer bits, more dB
    assert bd_rate(RATE, PSNR, RATE_T, PSNR_T).value < 0 < bd_metric(RATE, PSNR, RATE_T, PSNR_T).value


def test_lower_is_better_metric_and_unsorted_points():
    bpp = [0.1, 0.2, 0.4, 0.8]
    lp = [0.20, 0.12, 0.07, 0.04]
    order = [2, 0, 3, 1]
    r = bd_rate([bpp[i] for i in order], [lp[i] for i in order], [0.9 * b for b in bpp], lp)
    assert r.value == pytest.approx(-10.0)
    d = bd_metric(bpp, lp, bpp, [v - 0.01 for v in lp])
    assert d.value == pytest.approx(-0.01)


def test_impossible_deltas_are_nan_with_a_reason():
    one = bd_rate(RATE, PSNR, [0.5], [30.0])
    assert math.isnan(one.value) and "at least 2" in one.reason
    apart = bd_rate([1, 2], [10.0, 11.0], [1, 2], [20.0, 21.0])
    assert math.isnan(apart.value) and "overlap" in apart.reason
    wiggly = bd_rate(RATE, PSNR, RATE, [40.0, 35.0, 38.0, 34.0])
    assert math.isnan(wiggly.value) and "monotonic" in wiggly.reason


def test_table_and_markdown():
    curves = {
        "JPEG": [{"bpp": r, "psnr": p} for r, p in zip(RATE, PSNR, strict=True)],
        "better": [{"bpp": 0.8 * r, "psnr": p} for r, p in zip(RATE, PSNR, strict=True)],
        "single": [{"bpp": 3000.0, "psnr": 37.0}],
    }
    table = bd_table(curves, "JPEG", ["psnr"])
    assert set(table) == {"better", "single"}
    assert table["better"]["psnr"]["bd_rate"] == pytest.approx(-20.0)
    assert math.isnan(table["single"]["psnr"]["bd_rate"])
    md = format_bd_table(table, "JPEG")
    assert "| better | -20.00 |" in md and "n/a" in md
    with pytest.raises(ValueError):
        bd_table(curves, "missing")
