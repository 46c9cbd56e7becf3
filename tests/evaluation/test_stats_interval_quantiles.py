"""The percentile bootstrap's interval takes the (1 - confidence) / 2 and (1 + confidence) / 2
quantiles (Efron & Tibshirani §13.3), not ones twice as far out (review A: a mutant taking
alpha / 2 of the already halved alpha went unnoticed)."""

from __future__ import annotations

import numpy as np
import pytest

from taco.evaluation.stats import paired_bootstrap, percentile_interval


@pytest.mark.parametrize(("confidence", "expected"), [(0.95, (25.0, 975.0)), (0.9, (50.0, 950.0)),
                                                       (0.5, (250.0, 750.0))])
def test_percentile_interval_takes_the_central_quantiles(confidence, expected):
    low, high = percentile_interval(np.arange(1001.0), confidence)
    assert (low, high) == pytest.approx(expected, abs=1e-9)


def test_paired_bootstrap_interval_matches_a_hand_computation():
    """The same seeded draws (one image index per pair per resample) worked out here: the
    interval is the 2.5 % and 97.5 % quantiles of the resample means of b - a."""
    rng = np.random.default_rng(1)
    a = rng.normal(30, 1, 24)
    b = a + rng.normal(0.3, 0.5, 24)
    ci = paired_bootstrap(a, b, resamples=2000, confidence=0.95, seed=7)
    d = b - a
    draws = np.random.default_rng(7).integers(0, len(d), size=(2000, len(d)))
    means = d[draws].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    assert ci.mean == pytest.approx(d.mean(), abs=1e-12)
    assert (ci.low, ci.high) == pytest.approx((low, high), abs=1e-12)
    # about 2.5 % of the resample means lie below the interval and 2.5 % above it
    assert np.mean(means < ci.low) == pytest.approx(0.025, abs=0.002)
    assert np.mean(means > ci.high) == pytest.approx(0.025, abs=0.002)
