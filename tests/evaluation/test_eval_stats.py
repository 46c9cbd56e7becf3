"""Paired bootstrap and derangements (taco.evaluation.stats)."""

from __future__ import annotations

import numpy as np
import pytest

from taco.errors import TacoValueError
from taco.evaluation.stats import derangement, min_pairs, paired_bootstrap


def test_bootstrap_ci_contains_mean_and_is_reproducible():
    rng = np.random.default_rng(1)
    a = rng.normal(30, 2, 50)
    b = a + 0.3 + rng.normal(0, 0.5, 50)
    ci = paired_bootstrap(a, b, resamples=2000, seed=0)
    assert ci.low < ci.mean < ci.high
    assert ci.mean == pytest.approx(np.mean(b - a))
    assert ci.excludes_zero()  # a 0.3 shift with 0.5 noise over 50 pairs is clear
    assert paired_bootstrap(a, b, resamples=2000, seed=0) == ci
    assert paired_bootstrap(a, b, resamples=2000, seed=1) != ci


def test_bootstrap_is_paired():
    # large between-image spread, tiny constant shift: a paired CI is narrow around the shift
    a = np.linspace(10, 40, 30)
    ci = paired_bootstrap(a, a + 0.1, seed=0)
    assert ci.low == pytest.approx(0.1) and ci.high == pytest.approx(0.1)


def test_bootstrap_drops_non_finite_pairs():
    a = np.array([1.0, 2.0, np.nan, np.inf, 5.0])
    b = np.array([2.0, 3.0, 4.0, 5.0, np.nan])
    ci = paired_bootstrap(a, b, seed=0)
    assert ci.n == 2 and ci.mean == pytest.approx(1.0)
    empty = paired_bootstrap([np.nan], [1.0])
    assert empty.n == 0 and np.isnan(empty.mean) and not empty.excludes_zero()
    assert empty.reason == "no pair with both values finite"


def test_min_pairs_is_where_a_sign_test_can_first_reach_the_confidence():
    assert [min_pairs(c) for c in (0.5, 0.9, 0.95, 0.99)] == [2, 5, 6, 8]
    for confidence in (0.9, 0.95, 0.99):
        n = min_pairs(confidence)
        assert 2 * 0.5**n <= 1 - confidence < 2 * 0.5 ** (n - 1)
    with pytest.raises(ValueError, match="confidence"):
        min_pairs(1.0)


@pytest.mark.parametrize(("a", "b"), [([26.3, 26.8], [26.29, 26.79]), ([26.3], [26.29]),
                                      ([30.0, 31.0, 29.0, 32.0, 30.5], [29.99, 30.99, 28.99, 31.99, 30.49])])
def test_too_few_pairs_give_no_interval_and_no_significance(a, b):
    """1-5 pairs at 95 %: a percentile bootstrap would give a zero-width or one-sided interval
    (2 pairs: 3 possible resample means), calling a -0.01 dB difference significant."""
    ci = paired_bootstrap(a, b, resamples=2000, seed=0)
    assert ci.n == len(a) and ci.mean == pytest.approx(-0.01)
    assert np.isnan(ci.low) and np.isnan(ci.high)
    assert not ci.excludes_zero()
    assert f"{len(a)} pair" in ci.reason and "needs at least 6" in ci.reason
    assert ci.to_dict()["reason"] == ci.reason


def test_enough_pairs_of_one_sign_give_an_interval_that_excludes_zero():
    a = np.array([30.0, 31.0, 29.0, 32.0, 30.5, 28.0])
    ci = paired_bootstrap(a, a - 0.01, seed=0)
    assert ci.n == min_pairs() == 6 and ci.reason == ""
    assert ci.high < 0 and ci.excludes_zero()
    assert paired_bootstrap(a[:5], a[:5] - 0.01, confidence=0.9, seed=0).excludes_zero()  # 5 at 90 %


def test_no_resamples_give_no_interval():
    ci = paired_bootstrap(np.arange(10.0), np.arange(10.0) + 1, resamples=0)
    assert ci.mean == pytest.approx(1.0) and np.isnan(ci.low) and not ci.excludes_zero()
    assert ci.reason == "no resamples drawn"


def test_bootstrap_rejects_unpaired_input():
    with pytest.raises(ValueError):
        paired_bootstrap([1.0, 2.0], [1.0])


@pytest.mark.parametrize("n", [2, 3, 5, 14, 100])
def test_derangement_has_no_fixed_point(n):
    p = derangement(n, seed=3)
    assert sorted(p) == list(range(n))
    assert not np.any(p == np.arange(n))
    assert np.array_equal(p, derangement(n, seed=3))


def test_derangement_of_one_is_impossible():
    with pytest.raises(ValueError):
        derangement(1)


def test_seeds_and_counts_are_checked_with_their_argument():
    """seed=-1 was NumPy's bare 'expected non-negative integer', derangement(2.5) NumPy's
    AxisError and derangement(-3) an empty permutation."""
    a, b = np.arange(10.0), np.arange(10.0) + 1
    for call, name in ((lambda s: paired_bootstrap(a, b, seed=s), "paired_bootstrap"),
                       (lambda s: derangement(5, seed=s), "derangement")):
        with pytest.raises(TacoValueError, match=rf"^{name}: seed must be at least 0, got -1$"):
            call(-1)
        for seed, kind in (("1", "str"), (2.5, "float"), (True, "bool")):
            with pytest.raises(TypeError, match=rf"^{name}: seed must be an integer, not {kind}$"):
                call(seed)
        assert np.array_equal(np.asarray(call(np.int64(3))), np.asarray(call(3)))  # NumPy's ints taken
        call(2**70)  # NumPy's generator takes any seed from 0
    assert paired_bootstrap(a, b, seed=np.int64(3)).seed == 3
    assert type(paired_bootstrap(a, b, seed=np.int64(3)).seed) is int  # JSON-ready
    with pytest.raises(TypeError, match=r"^derangement: n must be an integer \(how many images\), not float$"):
        derangement(2.5)
    with pytest.raises(TacoValueError, match=r"^derangement: n must be at least 0 \(how many images\), got -3$"):
        derangement(-3)
    assert np.array_equal(derangement(np.int64(5), seed=1), derangement(5, seed=1))


def test_resamples_are_checked_with_their_argument():
    """resamples='x' was Python's bare "'<' not supported", 2.5 went on into NumPy."""
    a, b = np.arange(10.0), np.arange(10.0) + 1
    for value, kind in (("x", "str"), (2.5, "float"), (True, "bool"), (None, "NoneType")):
        with pytest.raises(TypeError, match=rf"^paired_bootstrap: resamples must be an integer \(bootstrap draws\), "
                                            rf"not {kind}$"):
            paired_bootstrap(a, b, resamples=value)
    with pytest.raises(TacoValueError, match=r"^paired_bootstrap: resamples must be >= 0, got -1$"):
        paired_bootstrap(a, b, resamples=-1)
    ci = paired_bootstrap(a, b, resamples=np.int64(300), seed=1)
    assert ci == paired_bootstrap(a, b, resamples=300, seed=1) and type(ci.resamples) is int  # JSON-ready


def test_paired_bootstrap_draws_in_bounded_chunks_with_the_same_result(monkeypatch):
    """The resamples are drawn a few rows at a time (bounded memory at COCO-30k scale); the
    interval is the one a single (resamples, n) draw gives."""
    from taco.evaluation import stats

    rng = np.random.default_rng(5)
    a, b = rng.normal(size=3000), rng.normal(size=3000) + 0.1
    chunked = stats.paired_bootstrap(a, b, resamples=500, seed=3)
    monkeypatch.setattr(stats, "DRAW_BYTES", 16 * 3000 * 7)  # 7 rows at a time
    assert stats.paired_bootstrap(a, b, resamples=500, seed=3) == chunked
    monkeypatch.setattr(stats, "DRAW_BYTES", 10**12)  # all at once
    assert stats.paired_bootstrap(a, b, resamples=500, seed=3) == chunked
    with pytest.raises(ValueError, match="resamples"):
        stats.paired_bootstrap(a, b, resamples=-1)
