"""``--bootstrap 1`` (taco evaluate --compare-caption-modes, taco plot) gave '95 %' intervals of
one draw: [-7.93e-18, -7.93e-18]* (rounding noise called significant) and intervals that did not
hold the value. Fewer resamples than MIN_RESAMPLES give no interval now, saying why, and never
'*'; 0 stays 'off'."""

from __future__ import annotations

import math

import numpy as np
import pytest

from taco.evaluation.bdrate import ImageCurve, bd_bootstrap, bd_table, format_bd_table
from taco.evaluation.stats import MIN_RESAMPLES, paired_bootstrap


def test_paired_bootstrap_gives_no_interval_from_a_few_resamples():
    a = np.linspace(0.1, 1.0, 12)
    b = a + np.random.default_rng(0).normal(0, 1e-17, 12)  # the same values but for rounding
    for few in (1, 5, MIN_RESAMPLES - 1):
        ci = paired_bootstrap(a, b, resamples=few)
        assert math.isnan(ci.low) and math.isnan(ci.high) and not ci.excludes_zero()
        assert ci.reason == f"{few} resample{'s' * (few > 1)}: an interval needs at least {MIN_RESAMPLES}"
    assert paired_bootstrap(a, b, resamples=0).reason == "no resamples drawn"
    ci = paired_bootstrap(a, a + 0.1, resamples=MIN_RESAMPLES)
    assert not ci.reason and ci.low <= 0.1 <= ci.high and ci.excludes_zero()


def test_bd_bootstrap_gives_no_interval_from_a_few_resamples():
    names = tuple(f"i{k}" for k in range(8))
    rate = np.tile([0.2, 0.4, 0.8, 1.6], (8, 1)) * np.linspace(0.8, 1.2, 8)[:, None]
    psnr = 30 + 4 * np.log2(rate) + np.arange(8)[:, None]
    anchor, test = ImageCurve(names, rate, {"psnr": psnr}), ImageCurve(names, rate * 0.8, {"psnr": psnr})
    b = bd_bootstrap(anchor, test, "psnr", resamples=1)
    for d in (b.bd_rate, b.bd_metric):
        assert not math.isnan(d.value) and math.isnan(d.low) and d.defined == 0
        assert d.ci_reason == f"1 resample: an interval needs at least {MIN_RESAMPLES}"
    assert not math.isnan(bd_bootstrap(anchor, test, "psnr", resamples=MIN_RESAMPLES).bd_rate.low)
    points = [{"bpp": float(r), "psnr": float(q), "images": 8} for r, q in zip(rate.mean(0), psnr.mean(0), strict=True)]
    table = bd_table({"A": points, "T": [{**p, "bpp": 0.8 * p["bpp"]} for p in points]}, "A", ["psnr"],
                     images={"A": anchor, "T": test}, resamples=3)
    md = format_bd_table(table, "A", bootstrap={"resamples": 3, "confidence": 0.95, "seed": 0})
    assert "[low, high]" not in md and f"no interval: 3 resamples: an interval needs at least {MIN_RESAMPLES}" in md


def test_the_help_names_the_floor(taco_main, capsys):
    with pytest.raises(SystemExit):
        taco_main(["plot", "--help"])
    assert f"fewer than {MIN_RESAMPLES}: none" in " ".join(capsys.readouterr().out.split())
