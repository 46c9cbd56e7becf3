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
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["BDResult", "bd_metric", "bd_rate", "bd_table", "format_bd_table"]

#: Metrics where lower is better (a negative BD-metric is an improvement).
LOWER_IS_BETTER = frozenset({"lpips", "fid", "cmmd", "bpp"})
METRIC_ORDER = ("psnr", "ms_ssim", "lpips", "fid", "cmmd")


@dataclass(frozen=True)
class BDResult:
    """One Bjøntegaard delta; ``value`` is NaN when it cannot be computed (``reason`` says why)."""

    value: float
    overlap: float = float("nan")  # fraction of the union interval both curves cover
    reason: str = ""


def _bjontegaard():  # noqa: ANN202
    try:
        import bjontegaard
    except ImportError as exc:  # pragma: no cover - the eval extra is missing
        raise ImportError(
            "BD-rate needs the 'bjontegaard' package: pip install 'taco-codec[eval]'"
        ) from exc
    return bjontegaard


def _clean(rate: Sequence[float], quality: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    r, q = np.asarray(rate, np.float64), np.asarray(quality, np.float64)
    if r.shape != q.shape or r.ndim != 1:
        raise ValueError(f"rate and quality must be 1-D of equal length, got {r.shape}, {q.shape}")
    keep = np.isfinite(r) & np.isfinite(q) & (r > 0)
    return r[keep], q[keep]


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    lo, hi = max(a.min(), b.min()), min(a.max(), b.max())
    span = max(a.max(), b.max()) - min(a.min(), b.min())
    return max(hi - lo, 0.0) / span if span > 0 else 1.0


def _check(
    ra: np.ndarray, qa: np.ndarray, rt: np.ndarray, qt: np.ndarray, axis: str
) -> str:
    """A reason the delta cannot be computed along ``axis`` ("rate" or "quality"), or ""."""
    for name, r, q in (("anchor", ra, qa), ("test", rt, qt)):
        if len(r) < 2:
            return f"{name} has {len(r)} usable point(s); need at least 2"
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


def _bd(
    along: str,
    rate_anchor: Sequence[float],
    quality_anchor: Sequence[float],
    rate_test: Sequence[float],
    quality_test: Sequence[float],
    method: str,
) -> BDResult:
    """The Bjøntegaard delta along ``along``: "quality" (BD-rate) or "rate" (BD-metric)."""
    ra, qa = _clean(rate_anchor, quality_anchor)
    rt, qt = _clean(rate_test, quality_test)
    reason = _check(ra, qa, rt, qt, along)
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
    return BDResult(float(value), overlap=overlap)


def bd_rate(
    rate_anchor: Sequence[float],
    quality_anchor: Sequence[float],
    rate_test: Sequence[float],
    quality_test: Sequence[float],
    method: str = "pchip",
) -> BDResult:
    """BD-rate in percent of ``test`` against ``anchor`` (negative: ``test`` saves bits)."""
    return _bd("quality", rate_anchor, quality_anchor, rate_test, quality_test, method)


def bd_metric(
    rate_anchor: Sequence[float],
    quality_anchor: Sequence[float],
    rate_test: Sequence[float],
    quality_test: Sequence[float],
    method: str = "pchip",
) -> BDResult:
    """BD-metric (BD-PSNR for PSNR): average quality gain of ``test`` at equal rate."""
    return _bd("rate", rate_anchor, quality_anchor, rate_test, quality_test, method)


def bd_table(
    curves: Mapping[str, Sequence[Mapping[str, float]]],
    anchor: str,
    metrics: Sequence[str] = ("psnr", "ms_ssim", "lpips"),
    method: str = "pchip",
) -> dict[str, dict[str, dict[str, float | str]]]:
    """BD-rate and BD-metric of every curve against ``anchor``, for each metric.

    ``curves`` maps a label to its points (dicts with ``"bpp"`` and metric values). Returns
    ``{label: {metric: {"bd_rate": %, "bd_metric": delta, "overlap": ..., "reason": ...}}}``;
    the anchor itself is left out. NaN values carry a reason.
    """
    if anchor not in curves:
        raise ValueError(f"anchor {anchor!r} is not one of the curves: {sorted(curves)}")

    def column(points: Sequence[Mapping[str, float]], key: str) -> list[float]:
        return [float(p.get(key, math.nan)) for p in points]

    table: dict[str, dict[str, dict[str, float | str]]] = {}
    base = curves[anchor]
    for label, points in curves.items():
        if label == anchor:
            continue
        row: dict[str, dict[str, float | str]] = {}
        for m in metrics:
            args = (column(base, "bpp"), column(base, m), column(points, "bpp"), column(points, m))
            r, d = bd_rate(*args, method=method), bd_metric(*args, method=method)
            row[m] = {
                "bd_rate": r.value,
                "bd_metric": d.value,
                "overlap": r.overlap,
                "reason": r.reason or d.reason,
            }
        table[label] = row
    return table


def format_bd_table(table: Mapping[str, Mapping[str, Mapping[str, float | str]]], anchor: str) -> str:
    """A Markdown table of :func:`bd_table` output: BD-rate % and BD-metric per metric."""
    present = {m for row in table.values() for m in row}
    metrics = [m for m in METRIC_ORDER if m in present] + sorted(present - set(METRIC_ORDER))
    head = ["codec"] + [f"BD-rate {m} (%)" for m in metrics] + [f"BD-{m}" for m in metrics]
    lines = [
        f"Anchor: **{anchor}**. BD-rate < 0: fewer bits at equal quality. "
        "BD-metric: quality gain at equal rate (for LPIPS/FID lower is better, so < 0 is a gain).",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    notes: list[str] = []
    for label, row in table.items():
        cells = [label]
        for key, fmt in (("bd_rate", "{:+.2f}"), ("bd_metric", "{:+.4f}")):
            for m in metrics:
                v = row.get(m, {}).get(key, math.nan)
                cells.append("n/a" if not isinstance(v, float) or math.isnan(v) else fmt.format(v))
        lines.append("| " + " | ".join(cells) + " |")
        notes += [f"- {label}, {m}: {row[m]['reason']}" for m in metrics if row.get(m, {}).get("reason")]
    if notes:
        lines += ["", "n/a:", *notes]
    return "\n".join(lines) + "\n"
