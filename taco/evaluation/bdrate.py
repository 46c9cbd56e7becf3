"""Bjøntegaard deltas: BD-rate and BD-PSNR (BD-metric) between two rate-distortion curves.

Bjøntegaard, VCEG-M33 (2001) / VCEG-AI11 (2008): interpolate each curve in the (log rate,
quality) plane and average the gap over the interval where both curves have data.

* BD-rate (%): average rate difference of ``test`` against ``anchor`` at equal quality,
  ``(10 ** mean(log10 R_test - log10 R_anchor) - 1) * 100``. Negative = ``test`` needs fewer bits.
* BD-metric: average quality difference at equal rate (BD-PSNR for PSNR, in dB). For a
  lower-is-better metric (LPIPS, FID) a negative value means ``test`` is better.

The interpolation comes from the ``bjontegaard`` package (FAU, BSD-3; the ``eval`` extra):
``"pchip"`` (piecewise cubic Hermite, the default; the JVET CTC spreadsheet uses a comparable
piecewise-cubic scheme) or ``"cubic"`` (the original VCEG-M33 cubic polynomial fit) or
``"akima"``. Points are sorted here first, so LPIPS/FID curves (decreasing in rate) work too.

:func:`bd_bootstrap` puts a confidence interval on both deltas by resampling the *images*
(no interval on fewer images than :func:`taco.evaluation.stats.min_pairs`: 6 at 95 %, nor
from fewer resamples than :data:`taco.evaluation.stats.MIN_RESAMPLES`)
behind two curves (:class:`ImageCurve`: every image's bpp and metrics at every rate point): each
resample averages the drawn images into two mean curves and takes their deltas again. With
``"pchip"`` the resamples are computed together (:func:`_pchip_deltas`, the same PCHIP as
SciPy's and the same integral, checked against the package in the tests); a resample whose
curves need a closer look (a point missing or repeated, quality not monotonic) goes through the
package like any single delta.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from ..checks import is_number, seed_argument
from ..errors import TacoValueError
from ..messages import count, did_you_mean, shown_path
from . import stats
from .stats import (
    MIN_RESAMPLES,
    min_pairs,
    percentile_interval,
    resamples_argument,
    too_few_resamples,
)

__all__ = [
    "METHOD_NAMES",
    "METRIC_UNITS",
    "MIN_OVERLAP",
    "BDBootstrap",
    "BDInterval",
    "BDResult",
    "ImageCurve",
    "bd_bootstrap",
    "bd_metric",
    "bd_rate",
    "bd_table",
    "format_bd_table",
    "markdown_cell",
    "metric_bpp",
    "rate_metric",
    "with_unit",
]

#: One curve's rates or qualities.
Points = Sequence[float] | np.ndarray

#: Metrics where lower is better (a negative BD-metric is an improvement).
LOWER_IS_BETTER = frozenset({"lpips", "fid", "cmmd", "bpp"})
#: The metrics of the BD table and the plot's panels, in their order.
METRIC_ORDER = ("psnr", "ms_ssim", "lpips", "fid", "cmmd")
#: The unit of a metric's values and differences, as table headers name it (BD-psnr (dB));
#: the others (MS-SSIM, LPIPS, FID, CMMD) are unitless scores.
METRIC_UNITS = {"psnr": "dB"}
#: A delta averaged over less than this share of the two curves' union is marked in the
#: table: a mean over a sliver of the range says little (scripts/check_targets.py fails a
#: target measured over less, its ``--min-overlap``).
MIN_OVERLAP = 0.2
#: The interpolations of the ``bjontegaard`` package, as a table's header names them.
METHOD_NAMES = {
    "pchip": "pchip (piecewise cubic Hermite)",
    "cubic": "cubic (VCEG-M33's cubic polynomial fit)",
    "akima": "akima (Akima spline)",
}


def with_unit(header: str, metric: str) -> str:
    """A table column's ``header`` for ``metric`` with the unit of its values
    (:data:`METRIC_UNITS`): ``BD-psnr (dB)``, ``Δpsnr (dB)``; as it is for a unitless metric."""
    return f"{header} ({METRIC_UNITS[metric]})" if metric in METRIC_UNITS else header


@dataclass(frozen=True)
class BDResult:
    """One Bjøntegaard delta; ``value`` is NaN when it cannot be computed (``reason`` says why)."""

    value: float
    overlap: float = float("nan")  # fraction of the union interval both curves cover
    reason: str = ""
    #: the interval the delta averages over: quality (BD-rate) or rate (BD-metric), NaN if none
    interval: tuple[float, float] = (float("nan"), float("nan"))


def metric_bpp(point: Mapping[str, object], metric: str) -> float:
    """The rate that goes with ``point``'s mean of ``metric``: its ``bpp_<metric>``, the mean bpp
    of the images that mean is over (a summary writes it where that is fewer than all: MS-SSIM
    of images under 161 px, PSNR of exact decodes), else its ``bpp`` (older results, or every
    image counted); NaN where neither is a number. ``metric`` ``"bpp"`` (:func:`rate_metric`'s
    answer for a mix with an older result) is every point's ``bpp``."""
    value = point.get(f"bpp_{metric}", point.get("bpp"))
    return float(value) if is_number(value) else math.nan


def rate_metric(curves: Iterable[Sequence[Mapping[str, object]]], metric: str) -> str:
    """Whose rate ``curves`` are compared at in ``metric`` (the argument :func:`metric_bpp` takes
    for each of their points): ``metric``, or ``"bpp"``, the rate over all images, when a point
    of one of them is from an older result, its mean of ``metric`` over fewer images than its
    ``images`` but no ``bpp_<metric>`` beside it. Such a point has only the rate of all images,
    and pairing it with another curve's ``bpp_<metric>`` compares two definitions of rate (a
    BD-rate of -46 % for a true -20 %); the same definition for all is off by less."""
    for points in curves:
        for p in points:
            fewer, total = p.get(f"{metric}_images"), p.get("images")
            if is_number(fewer) and is_number(total) and fewer < total and f"bpp_{metric}" not in p:
                return "bpp"
    return metric


def _bjontegaard():  # noqa: ANN202
    try:
        import bjontegaard
    except ImportError as exc:  # pragma: no cover - the eval extra is missing
        raise ImportError(
            "BD-rate needs the 'bjontegaard' package: pip install 'taco-codec[eval]'"
        ) from exc
    return bjontegaard


def _clean(rate: Points, quality: Points) -> tuple[np.ndarray, np.ndarray]:
    r, q = np.asarray(rate, np.float64), np.asarray(quality, np.float64)
    if r.shape != q.shape or r.ndim != 1:
        raise TacoValueError(f"rate and quality must be 1-D of equal length, got {r.shape}, {q.shape}")
    keep = np.isfinite(r) & np.isfinite(q) & (r > 0)
    # a point given twice (two settings that wrote the same files: AVIF q3 and q5) is one point
    pairs = np.unique(np.stack([r[keep], q[keep]], axis=1), axis=0)  # (points, 2), sorted by rate
    return pairs[:, 0], pairs[:, 1]


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    lo, hi = max(a.min(), b.min()), min(a.max(), b.max())
    span = max(a.max(), b.max()) - min(a.min(), b.min())
    return max(hi - lo, 0.0) / span if span > 0 else 1.0


def _fewest(method: str) -> int:
    """The usable points a curve needs for ``method``: a cubic polynomial (VCEG-M33's fit) is
    determined by 4 (through 2 or 3, ``polyfit`` returns one of many that fit, and the delta of
    two straight lines comes out wrong); the piecewise interpolants need 2."""
    return 4 if method == "cubic" else 2


def _require_cubic_points(ra: np.ndarray, rt: np.ndarray) -> None:
    """TacoValueError when the anchor's (``ra``) or test's (``rt``) usable points are too few
    for the cubic fit."""
    for name, r in (("anchor", ra), ("test", rt)):
        if len(r) < _fewest("cubic"):
            raise TacoValueError(
                f"method 'cubic' (VCEG-M33's cubic fit) needs at least {_fewest('cubic')} points per "
                f"curve: the {name} has {count(len(r), 'usable point')}, through which a cubic is not "
                "determined; use method 'pchip' (2 points are enough)")


def _check(
    ra: np.ndarray, qa: np.ndarray, rt: np.ndarray, qt: np.ndarray, axis: str, method: str
) -> str:
    """A reason the delta cannot be computed along ``axis`` ("rate" or "quality"), or ""."""
    fewest = _fewest(method)
    for name, r, q in (("anchor", ra, qa), ("test", rt, qt)):
        if len(r) < fewest:
            return (f"{name} has {count(len(r), 'usable point')}; need at least {fewest}"
                    + (" for the cubic fit" if method == "cubic" else ""))
        x = np.log10(r) if axis == "rate" else q
        if len(np.unique(x)) != len(x):
            return f"{name} has repeated {axis} values"
        order = np.argsort(r)
        if axis == "quality" and not (
            np.all(np.diff(q[order]) > 0) or np.all(np.diff(q[order]) < 0)
        ):
            return f"{name}'s quality is not strictly monotonic in rate"
    xa = np.log10(ra) if axis == "rate" else qa
    xt = np.log10(rt) if axis == "rate" else qt
    if _overlap(xa, xt) == 0:
        return f"the curves do not overlap in {axis}"
    return ""


def _checked_method(method: object) -> str:
    """``method`` if it names an interpolation of :data:`METHOD_NAMES`: a TypeError unless a
    str, a TacoValueError naming them for another (the ``bjontegaard`` package's is a plain
    ValueError)."""
    if not isinstance(method, str):
        raise TypeError(f"method must be the name of an interpolation (str), not {type(method).__name__}")
    if method not in METHOD_NAMES:
        raise TacoValueError(f"unknown interpolation method {method!r}{did_you_mean(method, METHOD_NAMES)}; "
                             f"methods: {', '.join(METHOD_NAMES)}")
    return method


def _bd(
    along: str,
    rate_anchor: Points,
    quality_anchor: Points,
    rate_test: Points,
    quality_test: Points,
    method: str,
    *,
    strict: bool = False,
) -> BDResult:
    """The Bjøntegaard delta along ``along``: "quality" (BD-rate) or "rate" (BD-metric).

    ``strict``: a TacoValueError, not a NaN, when a curve has too few points for ``method``
    (the caller's choice of method, not the data, is at fault: a cubic fit through 3 points)."""
    ra, qa = _clean(rate_anchor, quality_anchor)
    rt, qt = _clean(rate_test, quality_test)
    if strict and method == "cubic":
        _require_cubic_points(ra, rt)
    reason = _check(ra, qa, rt, qt, along, method)
    if reason:
        return BDResult(float("nan"), reason=reason)
    # the package interpolates along ``along``: sort the points by it
    xa, xt = (qa, qt) if along == "quality" else (ra, rt)
    ia, it = np.argsort(xa), np.argsort(xt)
    delta = _bjontegaard().bd_rate if along == "quality" else _bjontegaard().bd_psnr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # overlap is reported in the result instead
        value = delta(
            ra[ia], qa[ia], rt[it], qt[it], method, require_matching_points=False, min_overlap=0
        )
    overlap = _overlap(qa, qt) if along == "quality" else _overlap(np.log10(ra), np.log10(rt))
    ya, yt = (qa, qt) if along == "quality" else (ra, rt)
    interval = (float(max(ya.min(), yt.min())), float(min(ya.max(), yt.max())))
    return BDResult(float(value), overlap=overlap, interval=interval)


def bd_rate(
    rate_anchor: Sequence[float],
    quality_anchor: Sequence[float],
    rate_test: Sequence[float],
    quality_test: Sequence[float],
    method: str = "pchip",
) -> BDResult:
    """BD-rate in percent of ``test`` against ``anchor`` (negative: ``test`` saves bits).

    ``method="cubic"`` needs at least 4 usable points per curve (TacoValueError otherwise); a
    ``method`` not in :data:`METHOD_NAMES` is a TacoValueError too, one that is no str a
    TypeError."""
    return _bd("quality", rate_anchor, quality_anchor, rate_test, quality_test,
               _checked_method(method), strict=True)


def bd_metric(
    rate_anchor: Sequence[float],
    quality_anchor: Sequence[float],
    rate_test: Sequence[float],
    quality_test: Sequence[float],
    method: str = "pchip",
) -> BDResult:
    """BD-metric (BD-PSNR for PSNR): average quality gain of ``test`` at equal rate.

    ``method="cubic"`` needs at least 4 usable points per curve (TacoValueError otherwise); a
    ``method`` not in :data:`METHOD_NAMES` is a TacoValueError too, one that is no str a
    TypeError."""
    return _bd("rate", rate_anchor, quality_anchor, rate_test, quality_test,
               _checked_method(method), strict=True)


# --------------------------------------------------------------------------- CIs over images


def curve_array(name: str, values: object) -> np.ndarray:
    """``values`` (an array or nested lists of numbers) as a floating-point array for
    :class:`ImageCurve` field ``name``: an array that is already floating point as it is, any
    other as float64; a TacoValueError naming ``name`` for values that are not numbers."""
    try:
        a = np.asarray(values)
        return a if a.dtype.kind == "f" else a.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise TacoValueError(f"{name} must be numbers, (images, points): {exc}") from None


@dataclass(frozen=True)
class ImageCurve:
    """The per-image results behind one RD curve: every image at every rate point.

    ``rate`` and each ``quality[metric]`` are ``(images, points)`` arrays in the same image and
    point order; the curve's point ``j`` is the mean over images of column ``j`` (non-finite
    values skipped, as in the summary JSON's means; :func:`bd_bootstrap` averages the rate over
    the images whose quality it averages, as the summary's ``bpp_<metric>``). Nested lists are
    taken too: the curve holds them as arrays (float64 unless already floating point), and
    ``images`` as a tuple; values that are not numbers are a TacoValueError naming the field.
    """

    images: tuple[str, ...]
    rate: np.ndarray  # (images, points) bpp
    quality: Mapping[str, np.ndarray] = field(default_factory=dict)  # metric -> (images, points)

    def __post_init__(self) -> None:
        # frozen: the fields are set through object.__setattr__
        object.__setattr__(self, "images", tuple(self.images))
        object.__setattr__(self, "rate", curve_array("rate", self.rate))
        object.__setattr__(self, "quality",
                           {m: curve_array(m, q) for m, q in self.quality.items()})
        shape = (len(self.images), self.rate.shape[1] if self.rate.ndim == 2 else -1)
        for name, a in {"rate": self.rate, **self.quality}.items():
            if a.shape != shape:
                raise TacoValueError(f"{name} has shape {a.shape}, expected (images, points) = {shape}")

    def select(self, images: Sequence[str]) -> ImageCurve:
        """The same curve over ``images`` (each must be one of its images), in that order."""
        where = {name: i for i, name in enumerate(self.images)}
        rows = np.array([where[name] for name in images], dtype=np.int64)
        return ImageCurve(tuple(images), self.rate[rows], {m: q[rows] for m, q in self.quality.items()})


@dataclass(frozen=True)
class BDInterval:
    """A Bjøntegaard delta on all images with its percentile bootstrap interval over images.

    ``value``, ``overlap``, ``interval`` and ``reason`` are those of the delta between the two
    mean curves over all images (:class:`BDResult`). ``low``/``high`` come from the ``defined``
    resamples; ``undefined`` resamples gave no delta (too little overlap, a curve not monotonic)
    and are left out. When the delta on all images is undefined, no resample is tried; when
    there are too few images for an interval (:func:`taco.evaluation.stats.min_pairs`) or too
    few resamples (:data:`taco.evaluation.stats.MIN_RESAMPLES`) neither, and ``ci_reason`` says so.
    """

    value: float
    low: float
    high: float
    defined: int
    undefined: int
    overlap: float = float("nan")
    interval: tuple[float, float] = (float("nan"), float("nan"))
    reason: str = ""
    ci_reason: str = ""  # why a defined delta has no interval; "" when it has one

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "interval": list(self.interval)}


@dataclass(frozen=True)
class BDBootstrap:
    """BD-rate (%) and BD-metric of ``test`` against ``anchor`` in one metric, with CIs.

    Both deltas come from the same resamples of the same ``images`` (a paired design: both
    codecs coded every image, so image difficulty cancels)."""

    metric: str
    bd_rate: BDInterval
    bd_metric: BDInterval
    images: int
    resamples: int
    confidence: float
    seed: int
    method: str
    #: images both curves coded that were left out: a finite value of the metric at some points
    #: but not at every point of both curves (an exact decode: PSNR inf)
    left_out: int = 0

    def to_dict(self) -> dict[str, object]:
        return {"metric": self.metric, "bd_rate": self.bd_rate.to_dict(),
                "bd_metric": self.bd_metric.to_dict(), "images": self.images,
                "resamples": self.resamples, "confidence": self.confidence, "seed": self.seed,
                "method": self.method, "left_out": self.left_out}


def _mean_points(values: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Mean over the (drawn) images of each point's finite values.

    (images, P) -> (P,); with ``rows`` of shape (draws, images): (draws, P).
    """
    v = values if rows is None else values[rows]
    ok = np.isfinite(v)
    n_ok = ok.sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, v, 0.0).sum(axis=-2) / n_ok  # NaN where a point has no finite value


def _edge_slope(h0: np.ndarray, h1: np.ndarray, m0: np.ndarray, m1: np.ndarray) -> np.ndarray:
    """PCHIP's end-point derivative: the one-sided three-point estimate, kept shape-preserving."""
    d = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
    wrong_sign = np.sign(d) != np.sign(m0)
    overshoot = (np.sign(m0) != np.sign(m1)) & (np.abs(d) > 3 * np.abs(m0))
    return np.where(wrong_sign, 0.0, np.where(overshoot, 3 * m0, d))


def _pchip_integrals(x: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The integral from ``lo`` to ``hi`` of the PCHIP interpolant through each row's points.

    ``x`` (rows, P) strictly increasing in each row, ``y`` the same shape, ``[lo, hi]`` (rows,)
    inside each row's range. The derivatives are Fritsch-Butland's weighted harmonic means with
    Moler's end points, as :class:`scipy.interpolate.PchipInterpolator` takes them.
    """
    h = np.diff(x, axis=1)
    m = np.diff(y, axis=1) / h
    d = np.empty_like(y)
    if x.shape[1] == 2:  # two points: the straight line
        d[:, 0] = d[:, 1] = m[:, 0]
    else:
        sign = np.sign(m)
        flat = (sign[:, 1:] != sign[:, :-1]) | (m[:, 1:] == 0) | (m[:, :-1] == 0)
        w1, w2 = 2 * h[:, 1:] + h[:, :-1], h[:, 1:] + 2 * h[:, :-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            harmonic = 1.0 / ((w1 / m[:, :-1] + w2 / m[:, 1:]) / (w1 + w2))
        d[:, 1:-1] = np.where(flat, 0.0, harmonic)
        d[:, 0] = _edge_slope(h[:, 0], h[:, 1], m[:, 0], m[:, 1])
        d[:, -1] = _edge_slope(h[:, -1], h[:, -2], m[:, -1], m[:, -2])
    # each interval's cubic in t = x - x_k: y_k + d_k t + c2 t^2 + c3 t^3
    c2 = (3 * m - 2 * d[:, :-1] - d[:, 1:]) / h
    c3 = (d[:, :-1] + d[:, 1:] - 2 * m) / h**2

    def antiderivative(t: np.ndarray) -> np.ndarray:
        return t * (y[:, :-1] + t * (d[:, :-1] / 2 + t * (c2 / 3 + t * c3 / 4)))

    start = x[:, :-1]
    a = np.clip(lo[:, None] - start, 0, h)  # the part of each interval inside [lo, hi]
    b = np.clip(hi[:, None] - start, 0, h)
    return (antiderivative(b) - antiderivative(a)).sum(axis=1)


def _pchip_deltas(
    along: str, ra: np.ndarray, qa: np.ndarray, rt: np.ndarray, qt: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_bd` with ``"pchip"`` for many pairs of curves at once: (values, done).

    Rows of ``ra``, ``qa`` (draws, Pa) and ``rt``, ``qt`` (draws, Pt) are the points of one pair
    each. ``done`` marks the rows computed here: every point usable and distinct along
    ``along`` and, for BD-rate, quality strictly monotonic in rate. Those rows' ``values`` are
    the delta (NaN where the curves do not overlap); the other rows are left to :func:`_bd`.
    """
    done = np.ones(len(ra), dtype=bool)
    sorted_curves = []
    for r, q in ((ra, qa), (rt, qt)):
        with np.errstate(divide="ignore", invalid="ignore"):
            log_r = np.log10(r)
        done &= (np.isfinite(r) & np.isfinite(q) & (r > 0)).all(axis=1) & (r.shape[1] >= 2)
        if along == "quality":
            by_rate = np.take_along_axis(q, np.argsort(r, axis=1), axis=1)
            step = np.diff(by_rate, axis=1)
            done &= (step > 0).all(axis=1) | (step < 0).all(axis=1)
        x, y = (q, log_r) if along == "quality" else (log_r, q)
        order = np.argsort(x, axis=1)
        x, y = np.take_along_axis(x, order, axis=1), np.take_along_axis(y, order, axis=1)
        done &= (np.diff(x, axis=1) > 0).all(axis=1)
        sorted_curves.append((x, y))
    (xa, ya), (xt, yt) = sorted_curves
    values = np.full(len(ra), np.nan)
    if done.any():
        xa, ya, xt, yt = xa[done], ya[done], xt[done], yt[done]
        lo = np.maximum(xa[:, 0], xt[:, 0])
        hi = np.minimum(xa[:, -1], xt[:, -1])
        overlap = hi > lo
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            avg = (_pchip_integrals(xt, yt, lo, hi) - _pchip_integrals(xa, ya, lo, hi)) / (hi - lo)
            delta = (10**avg - 1) * 100 if along == "quality" else avg
        values[done] = np.where(overlap, delta, np.nan)
    return values, done


def bd_bootstrap(
    anchor: ImageCurve,
    test: ImageCurve,
    metric: str = "psnr",
    *,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    method: str = "pchip",
    strict: bool = True,
) -> BDBootstrap:
    """BD-rate and BD-metric of ``test`` against ``anchor`` with percentile bootstrap CIs.

    The images both curves have, with a finite value of ``metric`` at every point of both, are
    paired by name: those are the images counted, resampled and held to
    :func:`taco.evaluation.stats.min_pairs`, so every point of the two mean curves is over the
    same images. An image without the metric at any point (MS-SSIM has none under 161 px) is
    left out; one with it at some points only (PSNR is inf where an image decoded exactly) too,
    and counted in :attr:`BDBootstrap.left_out`. Each of ``resamples`` seeded draws takes that many images with replacement, averages them into the
    two mean curves and recomputes
    both deltas; the interval is the central ``confidence`` share of the deltas that are
    defined (:class:`BDInterval` says how many were not). The point estimate is the delta of
    the mean curves over all paired images: the value :func:`bd_table` gives for the same
    images. Same inputs and seed, same intervals (``seed``: an integer from 0, NumPy's taken;
    another is a TypeError or a TacoValueError, :func:`taco.checks.seed_argument`; ``resamples``
    alike, an integer from 0: :func:`taco.evaluation.stats.resamples_argument`). Fewer
    ``resamples`` than :data:`taco.evaluation.stats.MIN_RESAMPLES` (but some) give no interval,
    ``ci_reason`` saying so. ``strict``: a TacoValueError when a curve has
    too few points for ``method`` (a cubic fit through 3 points); False: an undefined delta
    saying so, as a cell of :func:`bd_table` is.
    """
    seed = seed_argument("bd_bootstrap: seed", seed, most=None)
    resamples = resamples_argument("bd_bootstrap: resamples", resamples)
    method = _checked_method(method)
    if not 0 < confidence < 1:
        raise TacoValueError(f"confidence must be in (0, 1), got {confidence}")
    for name, curve in (("anchor", anchor), ("test", test)):
        if metric not in curve.quality:
            raise TacoValueError(f"the {name} curve has no per-image {metric!r}: {sorted(curve.quality)}")
    in_test = set(test.images)
    shared = [name for name in anchor.images if name in in_test]
    a, t = anchor.select(shared), test.select(shared)
    # the images with a finite ``metric`` at every point of both curves: the ones resampled and
    # counted, so that every point of a mean curve is over the same images. An image with none
    # (no MS-SSIM under 161 px) is left out unsaid; one with some but not all (an exact decode's
    # PSNR is inf at the qualities that decoded exactly) is counted in ``left_out``: the means of
    # points over 6, 7 and 8 images compare other photos at each rate
    finite_a, finite_t = np.isfinite(a.quality[metric]), np.isfinite(t.quality[metric])
    has = finite_a.all(axis=1) & finite_t.all(axis=1)
    left_out = int((~has & (finite_a.any(axis=1) | finite_t.any(axis=1))).sum())
    images = [name for name, ok in zip(shared, has, strict=True) if ok]
    a, t = a.select(images), t.select(images)
    qa, qt = a.quality[metric], t.quality[metric]
    columns = (np.where(np.isfinite(qa), a.rate, np.nan), qa, np.where(np.isfinite(qt), t.rate, np.nan), qt)
    alongs = ("quality", "rate")  # BD-rate, BD-metric

    none = BDResult(float("nan"), reason=(f"no image the two curves share has a finite {metric} at every point"
                                          if left_out else f"no image the two curves share has a {metric}")
                    if shared else "the two curves share no image")
    ra, qa, rt, qt = (_mean_points(c) for c in columns)
    full = {k: _bd(alongs[k], ra, qa, rt, qt, method, strict=strict) if images else none for k in (0, 1)}
    wanted = [k for k in (0, 1) if not math.isnan(full[k].value)]  # an undefined delta gets no CI
    fewest = min_pairs(confidence)
    ci_reason = (f"{count(len(images), 'paired image')}: a "
                 f"{100 * confidence:g} % interval needs at least {fewest}"
                 if wanted and len(images) < fewest
                 else too_few_resamples(resamples) if wanted and 0 < resamples < MIN_RESAMPLES else "")
    if ci_reason:
        wanted = []
    found: list[list[np.ndarray]] = [[], []]
    rng = np.random.default_rng(seed)
    n, points = len(images), a.rate.shape[1] + t.rate.shape[1]
    chunk = max(1, stats.DRAW_BYTES // (8 * max(n, 1) * (1 + 2 * points)))  # indices, gathered values
    for start in range(0, resamples if wanted else 0, chunk):
        # the same indices as one draw of ``n`` per resample: the generator streams them
        rows = rng.integers(0, n, size=(min(chunk, resamples - start), n))
        curves = [_mean_points(c, rows) for c in columns]  # 4 x (draws, points)
        for k in wanted:
            if method == "pchip":
                values, done = _pchip_deltas(alongs[k], *curves)
            else:
                values, done = np.full(len(rows), np.nan), np.zeros(len(rows), dtype=bool)
            ra, qa, rt, qt = curves
            for i in np.flatnonzero(~done):  # the rows that need the package's look
                values[i] = _bd(alongs[k], ra[i], qa[i], rt[i], qt[i], method).value
            found[k].append(values)
    draws: list[np.ndarray] = []
    undefined = [0, 0]
    for k in (0, 1):
        values = np.concatenate(found[k]) if found[k] else np.empty(0)
        undefined[k] = int(np.isnan(values).sum())
        draws.append(values[~np.isnan(values)])

    def interval(k: int) -> BDInterval:
        d = full[k]
        low, high = percentile_interval(draws[k], confidence)
        why = ci_reason if not math.isnan(d.value) else ""
        return BDInterval(d.value, low, high, len(draws[k]), undefined[k], d.overlap, d.interval,
                          d.reason, why)

    return BDBootstrap(metric, interval(0), interval(1), len(images), resamples, confidence, seed, method,
                       left_out)


def _image_counts(points: Sequence[Mapping[str, float]], metric: str) -> set[int]:
    """The numbers of images a curve's means of ``metric`` are over (its points' ``<metric>_images``,
    else their ``images``, where recorded)."""
    counts = (p.get(f"{metric}_images", p.get("images")) for p in points if p.get(metric) is not None)
    return {int(n) for n in counts if is_number(n)}


def _counts_text(counts: set[int]) -> str:
    return "/".join(str(n) for n in sorted(counts)) or "?"


def bd_table(
    curves: Mapping[str, Sequence[Mapping[str, float]]],
    anchor: str,
    metrics: Sequence[str] = ("psnr", "ms_ssim", "lpips"),
    method: str = "pchip",
    *,
    images: Mapping[str, ImageCurve] | None = None,
    resamples: int = 0,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, dict[str, dict[str, float | str]]]:
    """BD-rate and BD-metric of every curve against ``anchor``, for each metric.

    ``curves`` maps a label to its points (dicts with ``"bpp"`` and metric values, and
    ``"images"``: how many images a point is the mean over; where a metric's mean is over
    fewer, ``"<metric>_images"`` and ``"bpp_<metric>"``, the rate of those images, which is the
    rate a delta in that metric uses: :func:`metric_bpp`). Returns ``{label: {metric:
    {"bd_rate": %, "overlap": ..., "reason": ..., "bd_metric": delta, "bd_metric_overlap": ...,
    "bd_metric_reason": ...}}}``: each delta with its own overlap (the share of the two curves'
    union it averages over: in quality for BD-rate, in log rate for BD-metric) and, when NaN,
    its own reason. The anchor itself is left out.

    When ``images`` (label -> :class:`ImageCurve`) holds the per-image results of a label and
    of the anchor in a metric, that cell's deltas are :func:`bd_bootstrap`'s: over the images
    both curves coded with a finite value of the metric at every point, paired by name
    (``images``: how many), which is what its interval is over, so a value is never from other
    images than its interval, and every point of both mean curves is over the same images;
    ``images_paired`` says so where that is fewer images than a curve's points average, with how
    many were left out for a value missing at some point (an exact decode's PSNR is inf). With
    ``resamples`` > 0 they
    also get the intervals: ``bd_rate_low``/``bd_rate_high``, ``bd_metric_low``/``bd_metric_high``,
    ``ci_images`` (images paired) and ``bd_rate_undefined``/``bd_metric_undefined`` (resamples
    without a delta, left out), and ``ci_reason`` when there are too few images (or resamples) for an
    interval. Otherwise the deltas are the points', and where the two curves' means of the metric
    are over different numbers of images ``images_differ`` says so (``"FAKE 6, JPEG 8"``): the
    value compares different sets of images (:func:`format_bd_table` marks it ``‡``); where an
    older result among the two lacks ``bpp_<metric>``, both curves' rates are their ``bpp`` over
    all images (:func:`rate_metric`) and ``rate_all_images`` says so (marked ``§``).
    """
    seed = seed_argument("bd_table: seed", seed, most=None)
    resamples = resamples_argument("bd_table: resamples", resamples)
    method = _checked_method(method)
    if anchor not in curves:
        raise TacoValueError(f"anchor {anchor!r} is not one of the curves: {sorted(curves)}")

    def column(points: Sequence[Mapping[str, float | None]], key: str) -> list[float]:
        """``key`` of each point; NaN where it is missing or null (a result file's "fid": null)."""
        values = (p.get(key) for p in points)
        return [math.nan if v is None else float(v) for v in values]

    images = images or {}
    table: dict[str, dict[str, dict[str, float | str]]] = {}
    base = curves[anchor]
    for label, points in curves.items():
        if label == anchor:
            continue
        row: dict[str, dict[str, float | str]] = {}
        for m in metrics:
            own, theirs = _image_counts(points, m), _image_counts(base, m)
            a, t = images.get(anchor), images.get(label)
            b = (bd_bootstrap(a, t, m, resamples=resamples, confidence=confidence, seed=seed, method=method,
                              strict=False)
                 if a is not None and t is not None and m in a.quality and m in t.quality else None)
            if b is not None and (b.images or b.left_out):  # paired: the value over the images of its interval
                r: BDResult | BDInterval = b.bd_rate
                d: BDResult | BDInterval = b.bd_metric
            else:
                b = None
                rate = rate_metric((base, points), m)
                args = ([metric_bpp(p, rate) for p in base], column(base, m),
                        [metric_bpp(p, rate) for p in points], column(points, m))
                r, d = _bd("quality", *args, method), _bd("rate", *args, method)  # NaN for too few points
            row[m] = {
                "bd_rate": r.value,
                "overlap": r.overlap,
                "reason": r.reason,
                "bd_metric": d.value,
                "bd_metric_overlap": d.overlap,
                "bd_metric_reason": d.reason,
            }
            if b is None:
                if rate != m:
                    older = [n for n, pts in ((anchor, base), (label, points)) if rate_metric([pts], m) != m]
                    row[m]["rate_all_images"] = f"{' and '.join(older)} without bpp_{m}"
                if len(own | theirs) > 1:
                    row[m]["images_differ"] = f"{label} {_counts_text(own)}, {anchor} {_counts_text(theirs)}"
                continue
            row[m]["images"] = b.images
            if resamples > 0:
                row[m].update(
                    bd_rate_low=b.bd_rate.low, bd_rate_high=b.bd_rate.high,
                    bd_metric_low=b.bd_metric.low, bd_metric_high=b.bd_metric.high,
                    ci_images=b.images, bd_rate_undefined=b.bd_rate.undefined,
                    bd_metric_undefined=b.bd_metric.undefined,
                )
                if b.bd_rate.ci_reason or b.bd_metric.ci_reason:
                    row[m]["ci_reason"] = b.bd_rate.ci_reason or b.bd_metric.ci_reason
            if b.left_out or any(b.images < n for n in own | theirs):
                left = (f"; {b.left_out} left out, without a finite {m} at every point of both curves"
                        + (": PSNR is inf where an image decoded exactly" if m == "psnr" else "")
                        if b.left_out else "")
                row[m]["images_paired"] = (f"{b.images} images ({label}'s points: {_counts_text(own)}, "
                                           f"{anchor}'s: {_counts_text(theirs)}{left})")
        table[label] = row
    return table


def _thin_overlap(entry: Mapping[str, float | str], key: str) -> float | None:
    """The overlap a defined ``key`` (bd_rate or bd_metric) averaged over when it is below
    :data:`MIN_OVERLAP` (the cell is marked); None otherwise (or not recorded)."""
    v = entry.get(key, math.nan)
    share = entry.get("overlap" if key == "bd_rate" else "bd_metric_overlap", math.nan)
    if isinstance(v, float) and not math.isnan(v) and isinstance(share, float) and share < MIN_OVERLAP:
        return share
    return None


def _interval(entry: Mapping[str, float | str], key: str) -> tuple[float, float] | None:
    """The bootstrap interval of a defined ``key`` (bd_rate or bd_metric); None if it has none."""
    v = entry.get(key, math.nan)
    low, high = entry.get(f"{key}_low", math.nan), entry.get(f"{key}_high", math.nan)
    if isinstance(v, float) and isinstance(low, float) and isinstance(high, float) and not (
            math.isnan(v) or math.isnan(low) or math.isnan(high)):
        return low, high
    return None


def _cell(entry: Mapping[str, float | str], key: str, fmt: str) -> str:
    """``value`` or ``value [low, high]`` (the CI when the table has one), ``n/a`` for NaN;
    ``†`` after a value averaged over less than :data:`MIN_OVERLAP` of the curves' union, ``‡``
    after one between points that are means over different numbers of images, ``§`` after one at
    the rate of all images (``rate_all_images``)."""
    v = entry.get(key, math.nan)
    if not isinstance(v, float) or math.isnan(v):
        return "n/a"
    thin = ((" †" if _thin_overlap(entry, key) is not None else "") + (" ‡" if entry.get("images_differ") else "")
            + (" §" if entry.get("rate_all_images") else ""))
    if (ci := _interval(entry, key)) is not None:
        return f"{fmt.format(v)} [{fmt.format(ci[0])}, {fmt.format(ci[1])}]{thin}"
    return fmt.format(v) + thin


@dataclass
class _TableNotes:
    """What :func:`format_bd_table` says under the table, gathered cell by cell."""

    na: list[str] = field(default_factory=list)  # why a cell is n/a
    thin: list[str] = field(default_factory=list)  # †
    undefined: list[str] = field(default_factory=list)  # resamples without a delta
    with_ci: set[float | str] = field(default_factory=set)  # images of the cells with an interval
    no_ci: set[str] = field(default_factory=set)  # why cells that could have had an interval have none
    differ: list[str] = field(default_factory=list)  # ‡
    all_images: list[str] = field(default_factory=list)  # §
    paired: list[str] = field(default_factory=list)  # paired over fewer images than the points


def _cell_notes(notes: _TableNotes, label: str, m: str, entry: Mapping[str, float | str]) -> None:
    """Add to ``notes`` what the table's notes say of the cells of curve ``label`` and metric
    ``m`` (its BD-rate and BD-metric ``entry``)."""
    rate, metric = str(entry.get("reason") or ""), str(entry.get("bd_metric_reason") or "")
    if rate and rate == metric:  # one reason for both deltas: said once
        notes.na.append(f"- {label}, {m}: {rate}")
    else:
        notes.na += [f"- {label}, {m}, {name}: {text}"
                     for name, text in (("BD-rate", rate), (f"BD-{m}", metric)) if text]
    for key, name in (("bd_rate", f"BD-rate {m}"), ("bd_metric", f"BD-{m}")):
        if (share := _thin_overlap(entry, key)) is not None:
            notes.thin.append(f"{label} {name}: {100 * share:.0f} %")
    if entry.get("images_differ"):
        notes.differ.append(str(entry["images_differ"]))
    if entry.get("rate_all_images"):
        notes.all_images.append(f"{label} {m}: {entry['rate_all_images']}")
    if entry.get("images_paired"):
        notes.paired.append(f"{label}: {entry['images_paired']}")
    if "ci_images" in entry and any(_interval(entry, k) for k in ("bd_rate", "bd_metric")):
        notes.with_ci.add(entry["ci_images"])  # a cell with an interval: the note describes it
    if entry.get("ci_reason"):
        notes.no_ci.add(str(entry["ci_reason"]))
    skipped = [f"{entry[f'{k}_undefined']} for BD-{'rate' if k == 'bd_rate' else m}"
               for k in ("bd_rate", "bd_metric") if entry.get(f"{k}_undefined")]
    if skipped:
        notes.undefined.append(f"- {label}, {m}: " + ", ".join(skipped))


def _footnotes(notes: _TableNotes, bootstrap: Mapping[str, float | int] | None) -> list[str]:
    """The paragraphs under the table, each after an empty line: the interval's description
    (with ``bootstrap``), †, ‡, §, the cells paired over fewer images, why no interval, the
    resamples left out, and why cells are n/a."""
    lines: list[str] = []
    if notes.with_ci and bootstrap:
        counts = ", ".join(str(int(n)) for n in sorted(notes.with_ci, key=float))
        lines += ["", f"[low, high]: {100 * float(bootstrap['confidence']):g} % percentile bootstrap "
                  f"interval over the images ({counts} paired), {int(bootstrap['resamples'])} "
                  f"resamples, seed {int(bootstrap['seed'])}; the per-image metrics only (not FID)."]
    if notes.thin:
        lines += ["", f"†: averaged over less than {100 * MIN_OVERLAP:.0f} % of the two curves' union "
                  "(a mean over a sliver of the range says little): " + "; ".join(notes.thin) + "."]
    if notes.differ:
        lines += ["", "‡: the two curves' points are means over different numbers of images, so the "
                  "value compares different sets of images (with both curves' per-image results the "
                  "table pairs them): " + "; ".join(dict.fromkeys(notes.differ)) + "."]
    if notes.all_images:
        lines += ["", "§: rate over all images: an older result lacks bpp_<metric> (the rate of the images "
                  "its mean of the metric is over), so both curves are compared at their bpp over all "
                  "images, beside a quality over fewer: " + "; ".join(notes.all_images) + "."]
    if notes.paired:
        lines += ["", "Values (and intervals) over the images both curves coded with a finite value at "
                  "every point, fewer than the points of a curve average: "
                  + "; ".join(dict.fromkeys(notes.paired)) + "."]
    if notes.no_ci:
        lines += ["", "no interval: " + "; ".join(sorted(notes.no_ci)) + "."]
    if notes.undefined:
        lines += ["", "resamples without a delta (left out of the interval):", *notes.undefined]
    if notes.na:
        lines += ["", "n/a:", *notes.na]
    return lines


def markdown_cell(text: str) -> str:
    """``text`` (a curve's label, a caption mode) as Markdown shows it, in a table cell as in a
    paragraph: its ``|`` escaped (``\\|``), which would otherwise end the cell and shift the
    numbers after it under the wrong headings (a run labelled ``ELIC | ours``), and its
    backslashes, so that ``a\\|b`` does not escape the backslash instead; a control character
    as :func:`taco.messages.shown_path` writes it (``\\n``, ``\\x1b``), where a line feed would
    end the row and start a forged one and an ESC drive the terminal the table is printed on."""
    return shown_path(text.replace("\\", "\\\\").replace("|", "\\|"))


def format_bd_table(
    table: Mapping[str, Mapping[str, Mapping[str, float | str]]],
    anchor: str,
    *,
    bootstrap: Mapping[str, float | int] | None = None,
    method: str = "pchip",
) -> str:
    """A Markdown table of :func:`bd_table` output: BD-rate % and BD-metric per metric.

    The header names the anchor and ``method``, the interpolation the table was computed with;
    a BD-metric column names its unit where it has one (``BD-psnr (dB)``, :func:`with_unit`).

    Cells with a bootstrap interval read ``value [low, high]``; ``bootstrap`` (``resamples``,
    ``confidence``, ``seed``) describes it in a note under the table. A value averaged over less
    than :data:`MIN_OVERLAP` of the two curves' union is marked ``†``, its overlap in a note; one
    between points over different numbers of images (``images_differ``) ``‡``, the counts in a
    note; one at the rate of all images (``rate_all_images``) ``§``; a note names the cells paired
    over fewer images than a curve's points hold. A ``|`` in a label or the anchor is written
    ``\\|`` (a backslash ``\\\\``), so that it stays in its cell, and a control character in
    one, there and in the notes, as :func:`taco.messages.shown_path` writes it (``\\x1b``), so
    that each line stays one line (:func:`markdown_cell`); :func:`bd_table`'s rows keep the
    labels as given.
    """
    if not table:
        return f"Anchor: **{markdown_cell(anchor)}**. No other curve to compare with it: nothing to tabulate.\n"
    present = {m for row in table.values() for m in row}
    metrics = [m for m in METRIC_ORDER if m in present] + sorted(present - set(METRIC_ORDER))
    head = (["codec"] + [f"BD-rate {m} (%)" for m in metrics]
            + [with_unit(f"BD-{m}", m) for m in metrics])
    lower = [m.upper() for m in metrics if m in LOWER_IS_BETTER]
    lower_note = (f" (for {', '.join(lower[:-1])}{' and ' if len(lower) > 1 else ''}{lower[-1]} lower "
                  "is better, so < 0 is a gain)" if lower else "")
    lines = [
        f"Anchor: **{markdown_cell(anchor)}**. BD-rate < 0: fewer bits at equal quality. "
        f"BD-metric: quality gain at equal rate{lower_note}. "
        f"Curves interpolated by {METHOD_NAMES.get(method, method)}.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    notes = _TableNotes()
    for label, row in table.items():
        cells = [markdown_cell(label)]
        for key, fmt in (("bd_rate", "{:+.2f}"), ("bd_metric", "{:+.4f}")):
            for m in metrics:
                cells.append(_cell(row.get(m, {}), key, fmt))
        lines.append("| " + " | ".join(cells) + " |")
        for m in metrics:
            _cell_notes(notes, label, m, row.get(m, {}))
    lines += map(shown_path, _footnotes(notes, bootstrap))  # the labels in them: one line each
    return "\n".join(lines) + "\n"
