"""Bjøntegaard deltas (taco.evaluation.bdrate)."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("bjontegaard")

import os
import subprocess
import sys

from taco.evaluation.bdrate import (
    ImageCurve,
    bd_bootstrap,
    bd_metric,
    bd_rate,
    bd_table,
    format_bd_table,
)

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
    assert math.isnan(one.value) and one.reason == "test has 1 usable point; need at least 2"
    apart = bd_rate([1, 2], [10.0, 11.0], [1, 2], [20.0, 21.0])
    assert math.isnan(apart.value) and "overlap" in apart.reason
    wiggly = bd_rate(RATE, PSNR, RATE, [40.0, 35.0, 38.0, 34.0])
    assert math.isnan(wiggly.value) and "monotonic" in wiggly.reason
    flat = bd_rate(RATE, PSNR, [1000.0, 2000.0, 3000.0], [35.0, 37.0, 37.0])
    assert math.isnan(flat.value) and "repeated quality" in flat.reason


def test_a_point_given_twice_counts_once():
    # two settings that wrote identical files (AVIF q3 and q5) give the same point twice
    twice = bd_rate(RATE, PSNR, [RATE[0], *RATE], [PSNR[0], *PSNR])
    assert twice.value == pytest.approx(0.0, abs=1e-9) and not twice.reason


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
    assert "BD-metric: quality gain at equal rate." in md  # PSNR only: higher is better
    with pytest.raises(ValueError):
        bd_table(curves, "missing")


def test_a_pipe_in_a_label_stays_in_its_cell():
    """A run labelled ``ELIC | ours`` wrote ``| ELIC | ours | -20.00 |``: its numbers under the
    wrong headings. The Markdown escapes ``|`` (and ``\\``) in labels and the anchor; the rows keep them raw."""
    import re

    curves = {"A|B": [{"bpp": r, "psnr": p} for r, p in zip(RATE, PSNR, strict=True)],
              "ELIC | ours": [{"bpp": 0.8 * r, "psnr": p} for r, p in zip(RATE, PSNR, strict=True)],
              "x\\|y": [{"bpp": 0.9 * r, "psnr": p} for r, p in zip(RATE, PSNR, strict=True)]}
    table = bd_table(curves, "A|B", ["psnr"])
    assert set(table) == {"ELIC | ours", "x\\|y"}
    md = format_bd_table(table, "A|B")
    assert "Anchor: **A\\|B**." in md and "| ELIC \\| ours | -20.00 |" in md and "| x\\\\\\|y | -10.00 |" in md
    rows = [line for line in md.splitlines() if line.startswith("|")]
    # split as GFM does: at each | that no backslash escapes (a \\ is an escaped backslash)
    cells = [re.findall(r"(?:\\.|[^|\\])+", row.strip().strip("|")) for row in rows]
    assert {len(c) for c in cells} == {3}, cells
    assert "No other curve" in format_bd_table({}, "A|B") and "**A\\|B**" in format_bd_table({}, "A|B")


def test_each_delta_has_its_own_overlap_and_reason_and_a_thin_one_is_marked():
    """BD-PSNR over a sliver of the rates, BD-rate undefined (no overlap in PSNR): the JSON
    used to store ``overlap: null`` and the BD-rate's reason beside a finite BD-PSNR, and the
    table printed it bare."""
    curves = {"A": [{"bpp": 0.1, "psnr": 25.0}, {"bpp": 0.2, "psnr": 27.0}, {"bpp": 0.5, "psnr": 30.0}],
              "T": [{"bpp": 0.45, "psnr": 31.0}, {"bpp": 1.0, "psnr": 34.0}],
              "B": [{"bpp": 0.08, "psnr": 25.5}, {"bpp": 0.4, "psnr": 30.5}]}
    table = bd_table(curves, "A", ["psnr"])
    t = table["T"]["psnr"]
    assert math.isnan(t["bd_rate"]) and t["reason"] == "the curves do not overlap in quality"
    assert math.isfinite(t["bd_metric"]) and t["bd_metric_reason"] == ""
    assert t["bd_metric_overlap"] == pytest.approx(math.log10(0.5 / 0.45) / math.log10(1.0 / 0.1))
    md = format_bd_table(table, "A")
    assert f"| T | n/a | {t['bd_metric']:+.4f} † |" in md
    assert "†: averaged over less than 20 % of the two curves' union" in md and "T BD-psnr: 5 %" in md
    assert "- T, psnr, BD-rate: the curves do not overlap in quality" in md
    assert "| B | " in md and "B BD" not in md  # a wide overlap is not marked
    assert table["B"]["psnr"]["overlap"] > 0.2 and table["B"]["psnr"]["bd_metric_overlap"] > 0.2


def test_the_note_names_every_lower_is_better_metric_of_the_table():
    """CMMD is lower-is-better too (the note said "for LPIPS/FID" whatever the table held)."""
    curves = {
        name: [{"bpp": f * r, "psnr": p, "lpips": 1 / p, "cmmd": 2 / p} for r, p in zip(RATE, PSNR, strict=True)]
        for name, f in (("JPEG", 1.0), ("better", 0.8))
    }
    md = format_bd_table(bd_table(curves, "JPEG", ["psnr", "lpips", "cmmd"]), "JPEG")
    assert "(for LPIPS and CMMD lower is better, so < 0 is a gain)" in md
    md = format_bd_table(bd_table(curves, "JPEG", ["cmmd"]), "JPEG")
    assert "(for CMMD lower is better, so < 0 is a gain)" in md


# --------------------------------------------------------------------------- CIs over images


def image_curves(n=12, seed=0):
    """An anchor over ``n`` images (4 rate points each, image difficulty varies a lot)."""
    from taco.evaluation.bdrate import ImageCurve

    rng = np.random.default_rng(seed)
    bpp = np.array([0.1, 0.2, 0.4, 0.8]) * rng.lognormal(0.0, 0.4, (n, 1))  # (n, 4)
    psnr = 26.0 + 3.0 * np.log2(bpp / 0.1) + rng.normal(0.0, 2.0, (n, 1)) + rng.normal(0, 0.2, (n, 4))
    lpips = 0.3 * np.exp(-2.0 * bpp) + rng.normal(0, 0.01, (n, 1))
    names = tuple(f"img{i}" for i in range(n))
    return ImageCurve(names, bpp, {"psnr": psnr, "lpips": lpips}), names


def test_bootstrap_of_known_shifts():
    from taco.evaluation.bdrate import ImageCurve, bd_bootstrap

    anchor, names = image_curves()
    # every image needs 20 % fewer bits for the same quality: BD-rate -20 %, in every resample
    cheaper = ImageCurve(names, 0.8 * anchor.rate, anchor.quality)
    b = bd_bootstrap(anchor, cheaper, "psnr", resamples=300, seed=0)
    assert b.images == 12 and b.resamples == 300
    assert b.bd_rate.value == pytest.approx(-20.0)
    assert b.bd_rate.low <= -20.0 + 1e-9 and b.bd_rate.high >= -20.0 - 1e-9
    assert b.bd_rate.high - b.bd_rate.low < 1e-6
    assert b.bd_rate.defined == 300 and b.bd_rate.undefined == 0
    # +0.5 dB on every image at every rate: BD-PSNR +0.5 with a CI around it
    better = ImageCurve(names, anchor.rate, {"psnr": anchor.quality["psnr"] + 0.5})
    d = bd_bootstrap(anchor, better, "psnr", resamples=300, seed=0).bd_metric
    assert d.value == pytest.approx(0.5)
    assert d.low == pytest.approx(0.5) and d.high == pytest.approx(0.5)
    assert 0 < d.overlap <= 1 and d.interval[0] < d.interval[1]  # bpp range averaged over
    # lower-is-better LPIPS, 0.01 lower everywhere: BD-metric -0.01
    lower = ImageCurve(names, anchor.rate, {"lpips": anchor.quality["lpips"] - 0.01})
    assert bd_bootstrap(anchor, lower, "lpips", resamples=50).bd_metric.value == pytest.approx(-0.01)


def test_bootstrap_matches_the_table_and_is_seeded():
    from taco.evaluation.bdrate import ImageCurve, bd_bootstrap

    anchor, names = image_curves()
    rng = np.random.default_rng(5)
    noisy = ImageCurve(names, anchor.rate * rng.uniform(0.7, 1.0, anchor.rate.shape),
                       {"psnr": anchor.quality["psnr"] + rng.normal(0.3, 0.5, anchor.rate.shape)})
    b = bd_bootstrap(anchor, noisy, "psnr", resamples=400, seed=3)
    # the point estimate is the delta of the mean curves, as bd_table computes it from the points
    mean = lambda c, q: [{"bpp": r, "psnr": p} for r, p in zip(c.rate.mean(0), c.quality[q].mean(0), strict=True)]  # noqa: E731
    row = bd_table({"A": mean(anchor, "psnr"), "T": mean(noisy, "psnr")}, "A", ["psnr"])["T"]["psnr"]
    assert b.bd_rate.value == pytest.approx(row["bd_rate"]) and b.bd_metric.value == pytest.approx(row["bd_metric"])
    assert b.bd_rate.low < b.bd_rate.value < b.bd_rate.high  # real noise: a real interval
    assert bd_bootstrap(anchor, noisy, "psnr", resamples=400, seed=3) == b
    assert bd_bootstrap(anchor, noisy, "psnr", resamples=400, seed=4).bd_rate != b.bd_rate
    # images are paired by name, whatever their order; only shared images count
    flipped = noisy.select(names[::-1])
    assert bd_bootstrap(anchor, flipped, "psnr", resamples=0).bd_rate.value == pytest.approx(b.bd_rate.value)
    assert bd_bootstrap(anchor, noisy.select(names[:5]), "psnr", resamples=10).images == 5


def test_bootstrap_and_table_check_their_seed():
    """seed=-1 was NumPy's bare 'expected non-negative integer', and bd_table's only when it
    had images to resample."""
    from taco.errors import TacoValueError

    anchor, names = image_curves()
    with pytest.raises(TacoValueError, match=r"^bd_bootstrap: seed must be at least 0, got -1$"):
        bd_bootstrap(anchor, anchor, "psnr", resamples=10, seed=-1)
    with pytest.raises(TypeError, match=r"^bd_bootstrap: seed must be an integer, not float$"):
        bd_bootstrap(anchor, anchor, "psnr", resamples=10, seed=1.0)
    points = [{"bpp": r, "psnr": q} for r, q in zip(RATE, PSNR, strict=True)]
    with pytest.raises(TacoValueError, match=r"^bd_table: seed must be at least 0, got -1$"):
        bd_table({"A": points, "B": points}, "A", ["psnr"], seed=-1)
    noisy = ImageCurve(names, anchor.rate * np.random.default_rng(5).uniform(0.7, 1.0, anchor.rate.shape),
                       anchor.quality)
    assert bd_bootstrap(anchor, noisy, "psnr", resamples=150, seed=np.int64(2)) == bd_bootstrap(
        anchor, noisy, "psnr", resamples=150, seed=2)  # NumPy's integers taken


def test_bootstrap_and_table_check_their_resamples():
    """resamples='x' was Python's bare "'<' not supported", 2.5 went on into NumPy."""
    from taco.errors import TacoValueError

    anchor, _ = image_curves()
    points = [{"bpp": r, "psnr": q} for r, q in zip(RATE, PSNR, strict=True)]
    calls = (("bd_bootstrap", lambda n: bd_bootstrap(anchor, anchor, "psnr", resamples=n)),
             ("bd_table", lambda n: bd_table({"A": points, "B": points}, "A", ["psnr"], resamples=n)))
    for name, call in calls:
        for value, kind in (("x", "str"), (2.5, "float"), (True, "bool")):
            with pytest.raises(TypeError, match=rf"^{name}: resamples must be an integer \(bootstrap draws\), "
                                                rf"not {kind}$"):
                call(value)
        with pytest.raises(TacoValueError, match=rf"^{name}: resamples must be >= 0, got -1$"):
            call(-1)
    assert bd_bootstrap(anchor, anchor, "psnr", resamples=np.int64(150)) == bd_bootstrap(
        anchor, anchor, "psnr", resamples=150)  # NumPy's integers taken


def test_an_unknown_method_is_refused_naming_the_methods():
    """method='x' was the bjontegaard package's plain ValueError ('Invalid interpolation method')."""
    from taco.errors import TacoValueError

    anchor, _ = image_curves()
    points = [{"bpp": r, "psnr": q} for r, q in zip(RATE, PSNR, strict=True)]
    calls = (lambda m: bd_rate(RATE, PSNR, RATE_T, PSNR_T, method=m),
             lambda m: bd_metric(RATE, PSNR, RATE_T, PSNR_T, method=m),
             lambda m: bd_bootstrap(anchor, anchor, "psnr", resamples=10, method=m),
             lambda m: bd_table({"A": points, "B": points}, "A", ["psnr"], method=m))
    for call in calls:
        with pytest.raises(TacoValueError, match=r"^unknown interpolation method 'x'; methods: pchip, cubic, akima$"):
            call("x")
        with pytest.raises(TacoValueError, match=r"^unknown interpolation method 'PCHIP' \(did you mean 'pchip'\?\)"):
            call("PCHIP")
        with pytest.raises(TypeError, match=r"^method must be the name of an interpolation \(str\), not NoneType$"):
            call(None)


def resampled_one_by_one(anchor, test, metric, resamples, seed, method="pchip"):
    """bd_bootstrap's draws done the plain way: one resample, one package call per delta."""
    rng = np.random.default_rng(seed)
    n = len(anchor.images)
    qa, qt = anchor.quality[metric], test.quality[metric]
    # a point's rate over the images its quality is over (every image has some value here)
    columns = (np.where(np.isfinite(qa), anchor.rate, np.nan), qa, np.where(np.isfinite(qt), test.rate, np.nan), qt)
    out = {"bd_rate": [], "bd_metric": []}
    for _ in range(resamples):
        rows = rng.integers(0, n, size=n)
        mean = [np.nanmean(c[rows], axis=0) if np.isfinite(c[rows]).any() else c[0] * np.nan
                for c in columns]
        out["bd_rate"].append(bd_rate(*mean, method=method).value)
        out["bd_metric"].append(bd_metric(*mean, method=method).value)
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("case", ["smooth", "noisy", "two_points", "holes", "repeats", "lpips"])
def test_bootstrap_resamples_equal_the_package_one_by_one(case):
    """All resamples at once (PCHIP in arrays) give what the package gives one resample at a time:
    the same defined/undefined counts and the same interval, also where rows need the package
    (a missing or repeated point, quality not monotonic) and for a lower-is-better metric."""
    from taco.evaluation.bdrate import ImageCurve, bd_bootstrap
    from taco.evaluation.stats import percentile_interval

    rng = np.random.default_rng(len(case))
    n, points = (9, 2) if case == "two_points" else (12, 5) if case == "holes" else (9, 5)
    noise = 2.0 if case == "noisy" else 0.1

    def curve(shift):
        bpp = np.sort(rng.uniform(0.05, 1.5, (n, points)), axis=1) * rng.lognormal(0, 0.4, (n, 1))
        psnr = shift + 4 * np.log2(bpp) + rng.normal(0, noise, (n, points))
        lpips = 0.3 * np.exp(-2 * bpp) + rng.normal(0, 0.002, (n, points))
        if case == "holes":
            psnr[rng.integers(0, n, 3), rng.integers(0, points, 3)] = np.nan
        if case == "repeats":  # two settings that wrote the same files
            bpp[:, 1], psnr[:, 1], lpips[:, 1] = bpp[:, 0], psnr[:, 0], lpips[:, 0]
        return bpp, psnr, lpips

    names = tuple(f"img{i}" for i in range(n))
    (ra, qa, la), (rt, qt, lt) = curve(30.0), curve(31.0)
    anchor = ImageCurve(names, ra, {"psnr": qa, "lpips": la})
    test = ImageCurve(names, rt, {"psnr": qt, "lpips": lt})
    metric = "lpips" if case == "lpips" else "psnr"
    b = bd_bootstrap(anchor, test, metric, resamples=400, seed=7)
    # the images paired: a finite value at every point of both curves (holes: the others left out)
    kept = [name for i, name in enumerate(names)
            if np.isfinite(anchor.quality[metric][i]).all() and np.isfinite(test.quality[metric][i]).all()]
    assert (b.images, b.left_out) == (len(kept), n - len(kept)) and len(kept) >= 6
    plain = resampled_one_by_one(anchor.select(kept), test.select(kept), metric, 400, seed=7)
    for key in ("bd_rate", "bd_metric"):
        got, values = getattr(b, key), plain[key]
        defined = values[~np.isnan(values)]
        assert (got.defined, got.undefined) == (len(defined), int(np.isnan(values).sum()))
        low, high = percentile_interval(defined, 0.95)
        assert got.low == pytest.approx(low, rel=1e-9, abs=1e-12)
        assert got.high == pytest.approx(high, rel=1e-9, abs=1e-12)
    if case == "noisy":  # quality not monotonic in some resamples: those have no BD-rate
        assert b.bd_rate.undefined > 0


def test_bootstrap_in_chunks_is_the_same(monkeypatch):
    from taco.evaluation import stats
    from taco.evaluation.bdrate import bd_bootstrap

    anchor, names = image_curves()
    test = type(anchor)(names, anchor.rate * 0.9, {"psnr": anchor.quality["psnr"] + 0.1})
    whole = bd_bootstrap(anchor, test, "psnr", resamples=100, seed=1)
    monkeypatch.setattr(stats, "DRAW_BYTES", 1)  # one resample at a time
    assert bd_bootstrap(anchor, test, "psnr", resamples=100, seed=1) == whole


def test_bootstrap_counts_undefined_resamples():
    from taco.evaluation.bdrate import ImageCurve, bd_bootstrap

    # images of two kinds whose mean curves overlap in PSNR, but neither kind's own curves do: a
    # resample drawing mostly one kind (under 3 or over 5 of 8 of kind b: 29 %) has no BD-rate
    names = tuple("abcdefgh")
    rate = np.tile([0.1, 0.2], (8, 1))
    kinds = lambda a, b: np.array([a] * 4 + [b] * 4)  # noqa: E731
    anchor = ImageCurve(names, rate, {"psnr": kinds([20.0, 22.0], [30.0, 32.0])})  # mean 25, 27
    test = ImageCurve(names, rate, {"psnr": kinds([26.0, 28.0], [24.0, 26.0])})  # mean 25, 27
    b = bd_bootstrap(anchor, test, "psnr", resamples=200, seed=0)
    assert b.bd_rate.value == pytest.approx(0.0, abs=1e-9)
    assert 30 < b.bd_rate.undefined < 90 and b.bd_rate.defined + b.bd_rate.undefined == 200
    assert b.bd_metric.undefined == 0  # the rates always overlap
    # on two images no interval at all: too few for a 95 % one (taco.evaluation.stats.min_pairs)
    two = bd_bootstrap(anchor.select(("a", "e")), test.select(("a", "e")), "psnr", resamples=200)
    assert two.bd_rate.value == pytest.approx(0.0, abs=1e-9) and math.isnan(two.bd_rate.low)
    assert two.bd_rate.defined == two.bd_rate.undefined == 0
    assert two.bd_rate.ci_reason == "2 paired images: a 95 % interval needs at least 6"
    # undefined on all images: no interval, no resample tried, and the reason
    apart = ImageCurve(names, anchor.rate, {"psnr": anchor.quality["psnr"] + 50})
    r = bd_bootstrap(anchor, apart, "psnr", resamples=200).bd_rate
    assert math.isnan(r.value) and math.isnan(r.low) and r.defined == r.undefined == 0
    assert "overlap" in r.reason
    nothing = bd_bootstrap(anchor, ImageCurve(("z",), np.ones((1, 2)), {"psnr": np.ones((1, 2))}), "psnr")
    assert nothing.images == 0 and "no image" in nothing.bd_rate.reason
    with pytest.raises(ValueError, match="no per-image 'ms_ssim'"):
        bd_bootstrap(anchor, test, "ms_ssim")
    with pytest.raises(ValueError, match="expected"):
        ImageCurve(names, np.ones((2, 3)), {"psnr": np.ones((2, 2))})


def test_table_with_intervals():
    from taco.evaluation.bdrate import ImageCurve

    anchor, names = image_curves()
    cheaper = ImageCurve(names, 0.8 * anchor.rate, anchor.quality)
    points = lambda c: [{"bpp": r, "psnr": p, "fid": 10.0 / r} for r, p in zip(c.rate.mean(0), c.quality["psnr"].mean(0), strict=True)]  # noqa: E731
    curves = {"JPEG": points(anchor), "better": points(cheaper)}
    table = bd_table(curves, "JPEG", ["psnr", "fid"], images={"JPEG": anchor, "better": cheaper},
                     resamples=100, seed=0)
    psnr = table["better"]["psnr"]
    assert psnr["bd_rate_low"] == pytest.approx(-20.0) and psnr["bd_rate_high"] == pytest.approx(-20.0)
    assert psnr["ci_images"] == 12 and psnr["bd_rate_undefined"] == 0
    assert "bd_rate_low" not in table["better"]["fid"]  # a set metric: no per-image values
    md = format_bd_table(table, "JPEG", bootstrap={"resamples": 100, "confidence": 0.95, "seed": 0})
    assert "| better | -20.00 [-20.00, -20.00] |" in md
    assert "95 % percentile bootstrap interval over the images (12 paired), 100 resamples" in md
    # without resamples the table is as before
    assert "bd_rate_low" not in bd_table(curves, "JPEG", ["psnr"], images={"JPEG": anchor, "better": cheaper})["better"]["psnr"]
    # on 4 images (the samples) the table says why it has no interval
    few = {k: c.select(names[:4]) for k, c in (("JPEG", anchor), ("better", cheaper))}
    table = bd_table(curves, "JPEG", ["psnr"], images=few, resamples=100, seed=0)
    md = format_bd_table(table, "JPEG", bootstrap={"resamples": 100, "confidence": 0.95, "seed": 0})
    assert "| better | -20.00 |" in md and "percentile bootstrap interval" not in md
    assert "no interval: 4 paired images: a 95 % interval needs at least 6." in md


def test_no_interval_note_under_a_table_without_intervals():
    """Every cell n/a (a single-point model against the anchor, with per-image results): the
    note used to describe intervals "over the images (12 paired)" the table did not have."""
    from taco.evaluation.bdrate import ImageCurve

    anchor, names = image_curves()
    single = ImageCurve(names, anchor.rate[:, :1], {"psnr": anchor.quality["psnr"][:, :1]})
    curves = {"JPEG": [{"bpp": r, "psnr": p} for r, p in zip(anchor.rate.mean(0), anchor.quality["psnr"].mean(0), strict=True)],
              "one": [{"bpp": float(single.rate.mean()), "psnr": float(single.quality["psnr"].mean())}]}
    table = bd_table(curves, "JPEG", ["psnr"], images={"JPEG": anchor, "one": single}, resamples=50)
    assert table["one"]["psnr"]["ci_images"] == 12 and math.isnan(table["one"]["psnr"]["bd_rate_low"])
    md = format_bd_table(table, "JPEG", bootstrap={"resamples": 50, "confidence": 0.95, "seed": 0})
    assert "| one | n/a | n/a |" in md and "[low, high]" not in md


def test_a_table_of_the_anchor_alone_says_so():
    curves = {"JPEG": [{"bpp": 0.2, "psnr": 28.0}, {"bpp": 0.4, "psnr": 31.0}]}
    md = format_bd_table(bd_table(curves, "JPEG", ["psnr"]), "JPEG")
    assert md == "Anchor: **JPEG**. No other curve to compare with it: nothing to tabulate.\n"


def test_a_nan_point_is_left_out_not_the_whole_result():
    """One undefined measurement (an LPIPS or MS-SSIM NaN, a missing FID) drops that point only:
    the result is the one without it, not NaN with a misleading reason."""
    anchor = ([0.1, 0.2, 0.4, 0.8], [28.0, 30.0, 32.0, 34.0])
    with_nan = bd_rate(*anchor, [0.1, 0.2, 0.4, 0.8], [28.5, 30.5, 32.5, math.nan])
    without = bd_rate(*anchor, [0.1, 0.2, 0.4], [28.5, 30.5, 32.5])
    assert math.isfinite(with_nan.value) and not with_nan.reason
    assert with_nan.value == pytest.approx(without.value)
    assert with_nan.interval == without.interval
    nan_rate = bd_metric([0.1, 0.2, 0.4, 0.8], [28.0, 30.0, 32.0, 34.0],
                         [0.1, 0.2, math.nan, 0.4], [28.5, 30.5, 31.0, 32.5])
    assert nan_rate.value == pytest.approx(bd_metric(*anchor, [0.1, 0.2, 0.4], [28.5, 30.5, 32.5]).value)


def test_the_interval_is_the_overlap_of_both_curves():
    """BD-rate averages over the quality range both curves cover, BD-metric over the rate range
    (what the tables print as the range averaged over): the overlap, never the union."""
    anchor = ([0.1, 0.2, 0.4, 0.8], [28.0, 30.0, 32.0, 34.0])
    test = ([0.15, 0.3, 0.6, 1.2], [29.0, 31.0, 33.0, 35.0])
    assert bd_rate(*anchor, *test).interval == (29.0, 34.0)
    assert bd_metric(*anchor, *test).interval == pytest.approx((0.15, 0.8))


def test_a_thin_bd_rate_cell_is_named_by_its_column():
    """The † note named every BD-rate cell "BD-rate": with several metrics, which column was which
    could not be told. It names them as the table's columns do."""
    curves = {"A": [{"bpp": 0.1, "psnr": 25.0, "lpips": 0.5}, {"bpp": 0.2, "psnr": 27.0, "lpips": 0.4},
                    {"bpp": 0.5, "psnr": 30.0, "lpips": 0.3}],
              "T": [{"bpp": 0.15, "psnr": 29.6, "lpips": 0.45}, {"bpp": 0.3, "psnr": 33.0, "lpips": 0.2},
                    {"bpp": 0.6, "psnr": 36.0, "lpips": 0.1}]}
    md = format_bd_table(bd_table(curves, "A", ["psnr", "lpips"]), "A")
    assert "| codec | BD-rate psnr (%) | BD-rate lpips (%) |" in md
    assert "T BD-rate psnr: 4 %." in md and "T BD-rate:" not in md


def _exact_curves(exact_rows=None, exact_cols=None):
    rng = np.random.default_rng(0)
    n = 10
    names = tuple(f"im{i}" for i in range(n))
    rate = np.sort(rng.uniform(0.1, 2, (n, 4)), axis=1)
    qa = 25 + 5 * np.log2(rate) + rng.normal(0, 0.3, (n, 4))
    qt = qa + 1.0
    if exact_rows is not None:
        qt[exact_rows, :] = np.inf
    if exact_cols is not None:
        qt[:, exact_cols] = np.inf
    return n, rate, qa, qt, ImageCurve(names, rate, {"psnr": qa}), ImageCurve(names, rate, {"psnr": qt})


def _points(n, rate, q):
    out = []
    for j in range(rate.shape[1]):
        ok = np.isfinite(q[:, j])
        p = {"bpp": float(rate[:, j].mean()), "psnr": float(q[ok, j].mean()) if ok.any() else None, "images": n}
        if not ok.all():
            p["psnr_images"] = int(ok.sum())
        out.append(p)
    return out


_NO_CI = """
import numpy as np
from taco.evaluation.bdrate import ImageCurve, bd_table, format_bd_table
rng = np.random.default_rng(0)
names = tuple(f"im{i}" for i in range(4))
rate = np.sort(rng.uniform(0.1, 2, (4, 4)), axis=1)
q = 25 + 5 * np.log2(rate) + rng.normal(0, .3, (4, 4))
lp = 0.5 - q / 100
lp[3] = np.nan
a, t = ImageCurve(names, rate, {"psnr": q, "lpips": lp}), ImageCurve(names, rate * 0.8, {"psnr": q, "lpips": lp})
pts = lambda c: [{"bpp": float(b), "psnr": float(p), "lpips": float(l), "images": 4} for b, p, l in
                 zip(c.rate.mean(0), c.quality["psnr"].mean(0), np.nanmean(c.quality["lpips"], 0))]
tab = bd_table({"JPEG": pts(a), "X": pts(t)}, "JPEG", ("psnr", "lpips"), images={"JPEG": a, "X": t}, resamples=200)
out = format_bd_table(tab, "JPEG", bootstrap={"resamples": 200, "confidence": 0.95, "seed": 0})
print([l for l in out.splitlines() if l.startswith("no interval")][0])
"""


def test_no_image_pairs_when_every_image_is_exact_at_the_tests_top_point():
    """Every shared image left out (PSNR inf) gives n/a with the reason, not a BD-rate from
    the points' means."""
    n, rate, qa, qt, a, t = _exact_curves(exact_cols=3)
    cell = bd_table({"JPEG": _points(n, rate, qa), "X": _points(n, rate, qt)}, "JPEG", ("psnr",),
                    images={"JPEG": a, "X": t}, resamples=0)["X"]["psnr"]
    assert not np.isfinite(cell["bd_rate"])
    assert "no image the two curves share has a finite psnr" in cell["reason"]
    assert "10 left out" in cell["images_paired"]


def test_an_image_exact_at_every_test_point_is_counted_as_left_out():
    """An image with no finite value on one curve only is still counted in left_out."""
    n, rate, qa, qt, a, t = _exact_curves(exact_rows=0)
    assert bd_bootstrap(a, t, "psnr", resamples=0).left_out == 1
    cell = bd_table({"JPEG": _points(n, rate, qa), "X": _points(n, rate, qt)}, "JPEG", ("psnr",),
                    images={"JPEG": a, "X": t}, resamples=0)["X"]["psnr"]
    assert "1 left out" in cell["images_paired"] and "PSNR is inf" in cell["images_paired"]


def test_an_overlap_of_exactly_a_fifth_gets_no_dagger():
    """The thin-overlap mark is for less than 20 %, not 20 % itself."""
    anchor = [{"bpp": 0.2, "psnr": 30.0}, {"bpp": 0.4, "psnr": 35.0}, {"bpp": 0.8, "psnr": 40.0}]
    test = [{"bpp": 0.3, "psnr": 38.0}, {"bpp": 0.6, "psnr": 40.0}]
    table = bd_table({"JPEG": anchor, "X": test}, "JPEG", ("psnr",))
    assert table["X"]["psnr"]["overlap"] == pytest.approx(0.2)
    text = format_bd_table(table, "JPEG")
    assert "†" not in text and "less than 20 %" not in text


def test_the_no_interval_note_lists_its_reasons_in_one_order():
    """The reasons are sorted, so the table reads the same whatever PYTHONHASHSEED is."""
    lines = set()
    for seed in ("0", "3"):  # 3: a set of the two reasons iterates unsorted
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", _NO_CI], env=env, capture_output=True, text=True, check=True)
        lines.add(out.stdout.strip())
    assert lines == {"no interval: 3 paired images: a 95 % interval needs at least 6; "
                     "4 paired images: a 95 % interval needs at least 6."}


def test_a_reason_shared_by_both_deltas_is_said_once():
    """One reason for BD-rate and BD-psnr alike is one note line."""
    anchor = [{"bpp": 0.2, "psnr": 30.0}]
    test = [{"bpp": 0.3, "psnr": 38.0}, {"bpp": 0.6, "psnr": 40.0}]
    notes = format_bd_table(bd_table({"JPEG": anchor, "X": test}, "JPEG", ("psnr",)), "JPEG").split("n/a:")[1]
    assert "- X, psnr: anchor has 1 usable point; need at least 2" in notes
    assert "BD-rate:" not in notes and notes.count("anchor has 1 usable point") == 1


def test_points_counting_every_image_are_not_an_older_result():
    """Psnr_images == images means no image was left out: each curve keeps its own rate."""
    anchor = [{"bpp": b, "psnr": q, "images": 8, "psnr_images": 8} for b, q in ((0.2, 28), (0.4, 31), (0.8, 34), (1.6, 37))]
    test = [{"bpp": b, "bpp_psnr": b * 0.8, "psnr": q, "images": 8, "psnr_images": 6}
            for b, q in ((0.2, 29), (0.4, 32), (0.8, 35), (1.6, 38))]
    cell = bd_table({"JPEG": anchor, "FAKE": test}, "JPEG", metrics=("psnr",))["FAKE"]["psnr"]
    assert "rate_all_images" not in cell
    assert cell["bd_rate"] == pytest.approx(-36.504, abs=0.01)
