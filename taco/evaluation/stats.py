"""Small statistics for evaluation: bootstrap confidence intervals and derangements.

:func:`paired_bootstrap` resamples per-image differences; :func:`taco.evaluation.bdrate.bd_bootstrap`
resamples whole per-image RD curves. Both take their interval from :func:`percentile_interval`.
:func:`paired_bootstrap` gives no interval on fewer pairs than :func:`min_pairs`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..checks import as_int, seed_argument
from ..errors import TacoValueError
from ..messages import count
from .defaults import MIN_RESAMPLES

__all__ = ["MIN_RESAMPLES", "BootstrapCI", "derangement", "min_pairs", "paired_bootstrap", "percentile_interval",
           "resamples_argument", "too_few_resamples"]


@dataclass(frozen=True)
class BootstrapCI:
    """Mean of per-image differences ``b - a`` with a percentile bootstrap interval.

    ``low`` and ``high`` are NaN when no interval was computed; ``reason`` then says why (no
    pairs, too few pairs for ``confidence``: :func:`min_pairs`, fewer resamples than
    :data:`MIN_RESAMPLES`).
    """

    mean: float
    low: float
    high: float
    n: int  # pairs used (both values finite)
    resamples: int
    confidence: float
    seed: int
    reason: str = ""  # why there is no interval; "" when there is one

    def excludes_zero(self) -> bool:
        """Whether the interval lies wholly above or below 0 (False when there is none)."""
        return not self.reason and (self.low > 0 or self.high < 0)

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)



#: Bytes of bootstrap indices and gathered values drawn at a time (:func:`paired_bootstrap`,
#: :func:`taco.evaluation.bdrate.bd_bootstrap`).
DRAW_BYTES = 32 * 2**20


def min_pairs(confidence: float = 0.95) -> int:
    """The fewest pairs on which a two-sided ``confidence`` interval can exclude 0: 6 at 95 %.

    Differences of one sign in every one of ``n`` pairs are the strongest evidence the pairs can
    give, and an exact sign test (or sign-flip permutation test) puts them at two-sided
    p = 2 / 2**n: 0.5 at n = 2, 0.0625 at n = 5, 0.031 at n = 6. With fewer pairs than returned
    here, even that p exceeds ``1 - confidence``, so no honest interval excludes 0. A percentile
    bootstrap still would: its resample means take few values (3 at n = 2, 1 at n = 1) and lie
    on one side of 0 whenever the differences do, at any n. This is a floor, not a promise of
    coverage: percentile intervals run narrow on a few dozen pairs too.
    """
    if not 0 < confidence < 1:
        raise TacoValueError(f"confidence must be in (0, 1), got {confidence}")
    n = 1
    while 2.0 * 0.5**n > 1.0 - confidence:
        n += 1
    return n


def resamples_argument(name: str, value: object) -> int:
    """``value`` as a number of bootstrap resamples (NumPy integers taken,
    :func:`taco.checks.as_int`): a TypeError naming argument ``name`` unless an integer (``"x"``,
    ``2.5``, ``True``), a :class:`~taco.errors.TacoValueError` below 0 (0 draws none: no
    interval). For :func:`paired_bootstrap`, :func:`taco.evaluation.bdrate.bd_bootstrap` and
    :func:`taco.evaluation.evaluate.compare_caption_modes`, which records it in its JSON."""
    number = as_int(value)
    if number is None:
        raise TypeError(f"{name} must be an integer (bootstrap draws), not {type(value).__name__}")
    if number < 0:
        raise TacoValueError(f"{name} must be >= 0, got {number}")
    return number


def paired_bootstrap(
    a: np.ndarray | list[float],
    b: np.ndarray | list[float],
    *,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> BootstrapCI:
    """Percentile bootstrap CI of ``mean(b - a)`` over paired samples (images).

    The same image indices are drawn for both members of a pair (a paired design: image
    difficulty cancels). Pairs where either value is not finite (MS-SSIM on small images, the
    infinite PSNR of identical images) are dropped first. Seeded: the same inputs and seed give
    the same interval; ``seed`` is an integer from 0 (NumPy's taken), another a TypeError or a
    :class:`~taco.errors.TacoValueError` (:func:`taco.checks.seed_argument`); ``resamples`` an
    integer from 0, alike (:func:`resamples_argument`).

    With fewer than :func:`min_pairs` finite pairs (6 at 95 %), or fewer ``resamples`` than
    :data:`MIN_RESAMPLES` (none: 0), the mean is given but not the interval: ``low`` and
    ``high`` are NaN, ``reason`` says why, and :meth:`BootstrapCI.excludes_zero` is False.
    """
    seed = seed_argument("paired_bootstrap: seed", seed, most=None)
    resamples = resamples_argument("paired_bootstrap: resamples", resamples)
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise TacoValueError(f"paired samples must be 1-D of equal length, got {a.shape}, {b.shape}")
    if not 0 < confidence < 1:
        raise TacoValueError(f"confidence must be in (0, 1), got {confidence}")
    d = (b - a)[np.isfinite(a) & np.isfinite(b)]
    n, nan = len(d), float("nan")
    if n == 0:
        why = "no pair with both values finite"
        return BootstrapCI(nan, nan, nan, 0, resamples, confidence, seed, why)
    fewest = min_pairs(confidence)
    if n < fewest:
        reason = (f"{count(n, 'pair')}: a {100 * confidence:g}% interval needs at "
                  f"least {fewest} (with {n}, even differences all of one sign have sign-test "
                  f"p = {2 * 0.5**n:.3g} > {1 - confidence:.3g})")
        return BootstrapCI(float(d.mean()), nan, nan, n, resamples, confidence, seed, reason)
    if resamples < MIN_RESAMPLES:
        why = "no resamples drawn" if resamples == 0 else too_few_resamples(resamples)
        return BootstrapCI(float(d.mean()), nan, nan, n, resamples, confidence, seed, why)
    rng = np.random.default_rng(seed)
    # the draws a few rows at a time (~32 MB of indices, whatever n): one (resamples, n) array
    # took 960 MB at 30,000 images; the generator gives the same indices either way
    rows = max(1, DRAW_BYTES // (16 * n))
    means = np.concatenate([
        d[rng.integers(0, n, size=(min(rows, resamples - start), n))].mean(axis=1)
        for start in range(0, resamples, rows)
    ])
    low, high = percentile_interval(means, confidence)
    return BootstrapCI(float(d.mean()), low, high, n, resamples, confidence, seed)


def too_few_resamples(resamples: int) -> str:
    """Why ``resamples`` (fewer than :data:`MIN_RESAMPLES`) give no interval."""
    return f"{count(resamples, 'resample')}: an interval needs at least {MIN_RESAMPLES}"


def percentile_interval(samples: np.ndarray | list[float], confidence: float = 0.95) -> tuple[float, float]:
    """The central ``confidence`` interval of bootstrap ``samples`` (percentile method).

    Efron & Tibshirani, *An Introduction to the Bootstrap* (1993), §13.3: the
    ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles. NaN, NaN for no samples.
    """
    if not 0 < confidence < 1:
        raise TacoValueError(f"confidence must be in (0, 1), got {confidence}")
    values = np.asarray(samples, np.float64)
    if values.size == 0:
        return float("nan"), float("nan")
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return float(low), float(high)


def derangement(n: int, seed: int = 0) -> np.ndarray:
    """A seeded random permutation of ``range(n)`` with no fixed point (``p[i] != i``).

    Used to give each image another image's caption. Rejection sampling of uniform permutations
    (about e ≈ 2.7 draws on average). ``n == 1`` has no derangement and raises
    :class:`~taco.errors.TacoValueError` (a ``ValueError``), as a negative ``n`` or ``seed``
    does; an ``n`` or ``seed`` that is no integer (``2.5``, ``"3"``; NumPy's are taken) is a
    TypeError (:func:`taco.checks.seed_argument`).
    """
    images = as_int(n)
    if images is None:
        raise TypeError(f"derangement: n must be an integer (how many images), not {type(n).__name__}")
    if images < 0:
        raise TacoValueError(f"derangement: n must be at least 0 (how many images), got {images}")
    seed = seed_argument("derangement: seed", seed, most=None)
    n = images
    if n == 1:
        raise TacoValueError("one image has no other image's caption to borrow")
    rng = np.random.default_rng(seed)
    idx = np.arange(n)
    while True:
        p = rng.permutation(n)
        if not np.any(p == idx):
            return p
