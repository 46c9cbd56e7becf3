"""Small statistics for evaluation: bootstrap confidence intervals and derangements.

:func:`paired_bootstrap` resamples per-image differences; :func:`taco.evaluation.bdrate.bd_bootstrap`
resamples whole per-image RD curves. Both take their interval from :func:`percentile_interval`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["BootstrapCI", "derangement", "paired_bootstrap", "percentile_interval"]


@dataclass(frozen=True)
class BootstrapCI:
    """Mean of per-image differences ``b - a`` with a percentile bootstrap interval."""

    mean: float
    low: float
    high: float
    n: int  # pairs used (both values finite)
    resamples: int
    confidence: float
    seed: int

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


#: Bytes of bootstrap indices and gathered values drawn at a time (:func:`paired_bootstrap`,
#: :func:`taco.evaluation.bdrate.bd_bootstrap`).
DRAW_BYTES = 32 * 2**20


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
    the same interval.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired samples must be 1-D of equal length, got {a.shape}, {b.shape}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if resamples < 0:
        raise ValueError(f"resamples must be >= 0, got {resamples}")
    d = (b - a)[np.isfinite(a) & np.isfinite(b)]
    n = len(d)
    if n == 0:
        nan = float("nan")
        return BootstrapCI(nan, nan, nan, 0, resamples, confidence, seed)
    rng = np.random.default_rng(seed)
    # the draws a few rows at a time (~32 MB of indices, whatever n): one (resamples, n) array
    # took 960 MB at 30,000 images; the generator gives the same indices either way
    rows = max(1, DRAW_BYTES // (16 * n))
    means = np.concatenate([
        d[rng.integers(0, n, size=(min(rows, resamples - start), n))].mean(axis=1)
        for start in range(0, resamples, rows)
    ]) if resamples else np.empty(0)
    low, high = percentile_interval(means, confidence)
    return BootstrapCI(float(d.mean()), low, high, n, resamples, confidence, seed)


def percentile_interval(samples: np.ndarray | list[float], confidence: float = 0.95) -> tuple[float, float]:
    """The central ``confidence`` interval of bootstrap ``samples`` (percentile method).

    Efron & Tibshirani, *An Introduction to the Bootstrap* (1993), §13.3: the
    ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles. NaN, NaN for no samples.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    values = np.asarray(samples, np.float64)
    if values.size == 0:
        return float("nan"), float("nan")
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return float(low), float(high)


def derangement(n: int, seed: int = 0) -> np.ndarray:
    """A seeded random permutation of ``range(n)`` with no fixed point (``p[i] != i``).

    Used to give each image another image's caption. Rejection sampling of uniform permutations
    (about e ≈ 2.7 draws on average). ``n == 1`` has no derangement and raises ``ValueError``.
    """
    if n == 1:
        raise ValueError("one image has no other image's caption to borrow")
    rng = np.random.default_rng(seed)
    idx = np.arange(n)
    while True:
        p = rng.permutation(n)
        if not np.any(p == idx):
            return p
