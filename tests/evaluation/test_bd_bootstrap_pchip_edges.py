"""bd_bootstrap's resamples (PCHIP computed for many curves at once) give SciPy's PCHIP answer
where a curve's quality turns down at an end, where PCHIP's end slope is clamped to 3 times the
end interval's slope (Moler's rule). Review A: a mutant clamping at 2 times passed, as no test
had a curve whose end slope fell between the two.

Every image here has the same points, so every resample's mean curves are the curves of all
images, and each resample's delta must be the one SciPy gives for them."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("bjontegaard")  # the eval extra (it brings SciPy)

from scipy.interpolate import PchipInterpolator

from taco.evaluation.bdrate import ImageCurve, bd_bootstrap, bd_metric

IMAGES = tuple("abcdef")  # 6: the fewest with a 95 % interval
TEST = ([0.1, 0.2, 0.4, 0.8], [31.0, 33.0, 35.0, 36.0])


def _curve(rate: list[float], quality: list[float]) -> ImageCurve:
    rows = len(IMAGES)
    return ImageCurve(IMAGES, np.tile(np.asarray(rate), (rows, 1)),
                      {"psnr": np.tile(np.asarray(quality), (rows, 1))})


def _scipy_bd_metric(ra, qa, rt, qt) -> float:
    xa, xt = np.log10(ra), np.log10(rt)
    lo, hi = max(xa[0], xt[0]), min(xa[-1], xt[-1])
    gap = PchipInterpolator(xt, qt).integrate(lo, hi) - PchipInterpolator(xa, qa).integrate(lo, hi)
    return float(gap / (hi - lo))


@pytest.mark.parametrize(("anchor", "expected"), [
    (([0.1, 0.2, 0.25, 0.8], [30.0, 33.0, 33.5, 31.0]), 1.3860486608912705),  # turns down at the top
    (([0.1, 0.2, 0.4, 0.8], [30.0, 32.0, 28.0, 29.0]), 3.986111111111113),  # turns at the bottom
])
def test_resampled_bd_metric_is_scipys_pchip_where_quality_turns_at_an_end(anchor, expected):
    assert _scipy_bd_metric(*anchor, *TEST) == pytest.approx(expected, abs=1e-9)
    assert bd_metric(*anchor, *TEST).value == pytest.approx(expected, abs=1e-9)
    ci = bd_bootstrap(_curve(*anchor), _curve(*TEST), "psnr", resamples=100).bd_metric
    assert (ci.defined, ci.undefined) == (100, 0)
    assert ci.value == pytest.approx(expected, abs=1e-9)
    assert (ci.low, ci.high) == pytest.approx((expected, expected), abs=1e-9)
