"""Check issue 14's targets (item 5) on the results of one ``taco evaluate`` run.

    taco evaluate ../shared/data/photos/val -m MODEL --classic jpeg,webp,avif \
        --qualities jpeg=10,20,30,50,70 --qualities webp=5,10,20,40,60 \
        --qualities avif=10,20,30,50,70 --fid off --cmmd-clip off -o runs/targets
    python scripts/check_targets.py runs/targets --model LABEL [--elic LABEL] [--json]

The targets, for the model's curve (all its qualities) against each classic codec's curve (all
its qualities), BD over the interval where both curves have data:

1. BD-PSNR against JPEG (Pillow, 4:2:0) >= +2 dB;
2. BD-rate in PSNR against WebP <= -15 %;
3. BD-rate in PSNR against AVIF <= 0 %;
4. lower LPIPS than AVIF at equal bpp: BD-metric of LPIPS against AVIF < 0 (the mean LPIPS
   difference at equal bpp over the overlap in bpp).

A target passes when the value on all images meets it (``--require-ci``: when the whole 95 %
bootstrap interval over the images does), measured over at least ``--min-overlap`` (20 %) of the
two curves' union. The targets are over all the dataset's images: results that cover only some
(a run not complete, a ``--limit`` run, a model and an anchor that share fewer images than the
dataset has) cannot be checked unless ``--allow-subset`` is given, nor can a run on cropped images
(``taco evaluate --crop``: the targets are on the whole photos) unless ``--allow-crop`` is. With ``--elic LABEL``: the
model's BD-rate in PSNR and in LPIPS against that same-budget ELIC, with intervals (reported, not
a target). Exit status: 0 when every target passes, 1 when one does not, 2 when the results
cannot be checked.
"""

from __future__ import annotations

import argparse
import json
import math
import operator
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from taco.cli.common import non_negative_int

# MIN_OVERLAP: a target measured over less of the two curves' union (in the axis BD integrates
# over) fails, as the BD table marks such a value: a mean over a sliver says little.
from taco.evaluation.bdrate import MIN_OVERLAP, BDInterval, ImageCurve, bd_bootstrap
from taco.evaluation.plot import Curve, collect_curves, image_curve, load_results
from taco.evaluation.runner import ResultsFileError
from taco.jsonfiles import jsonable


@dataclass(frozen=True)
class Target:
    """One of issue 14's targets: ``delta`` (bd_rate | bd_metric) of ``metric`` against ``codec``."""

    name: str
    codec: str  # the classic codec's name in the results (``codec`` of its JSON)
    metric: str
    delta: str  # "bd_rate" (%) or "bd_metric" (metric units)
    op: str  # ">=", "<=", "<"
    threshold: float
    meaning: str


TARGETS = (
    Target("BD-PSNR vs JPEG", "jpeg", "psnr", "bd_metric", ">=", 2.0,
           "mean PSNR gain at equal bpp over the overlap, dB"),
    Target("BD-rate (PSNR) vs WebP", "webp", "psnr", "bd_rate", "<=", -15.0,
           "mean bit saving at equal PSNR over the overlap, %"),
    Target("BD-rate (PSNR) vs AVIF", "avif", "psnr", "bd_rate", "<=", 0.0,
           "mean bit saving at equal PSNR over the overlap, %"),
    Target("LPIPS vs AVIF at equal bpp", "avif", "lpips", "bd_metric", "<", 0.0,
           "BD-metric of LPIPS: mean LPIPS difference at equal bpp over the overlap (< 0: lower)"),
)
OPS: dict[str, Callable[[float, float], bool]] = {">=": operator.ge, "<=": operator.le, "<": operator.lt}


class CheckError(ValueError):
    """The results cannot be checked (no such folder, label or codec)."""


def _pick_dataset(results_dir: Path, dataset: str | None) -> tuple[str, list[Curve]]:
    if not results_dir.is_dir():
        raise CheckError(f"{results_dir}: no such folder")
    by_dataset = collect_curves(load_results([results_dir]))
    if not by_dataset:
        raise CheckError(f"no taco-eval result JSONs with points under {results_dir}")
    if dataset is None:
        if len(by_dataset) > 1:
            raise CheckError(f"results of several datasets: {sorted(by_dataset)}; choose one with --dataset")
        dataset = next(iter(by_dataset))
    if dataset not in by_dataset:
        raise CheckError(f"no results for dataset {dataset!r}; have {sorted(by_dataset)}")
    return dataset, by_dataset[dataset]


def _learned(curves: Sequence[Curve], label: str | None, exclude: str | None, what: str) -> Curve:
    learned = [c for c in curves if c.kind == "learned" and c.label != exclude]
    if label is None:
        if len(learned) != 1:
            raise CheckError(f"choose the {what} with --{what}: learned curves are "
                             f"{sorted(c.label for c in learned)}")
        return learned[0]
    for c in learned:
        if c.label in (label, f"{label} (untrained)"):  # the -m name of an untrained architecture
            return c
    raise CheckError(f"no learned curve labelled {label!r}; have {sorted(c.label for c in learned)}")


def _classic(curves: Sequence[Curve], codec: str) -> Curve:
    for c in curves:
        if c.kind == "classic" and c.codec == codec:
            return c
    raise CheckError(f"no {codec} curve in the results: run taco evaluate with --classic {codec}")


def _describe(curve: Curve) -> str:
    """The curve's label with what makes the anchor what it is: implementation, encoder
    (AVIF's AV1 encoder and version), speed (AVIF's: speed 3 is some 7 % better than the
    default 6, see docs/evaluation.md), subsampling, and the number of points."""
    settings = curve.sources[0].get("codec_settings", {}) if curve.kind == "classic" else {}
    extra = [str(settings[k]) for k in ("implementation", "encoder") if k in settings]
    extra += [f"speed {settings['speed']}"] if "speed" in settings else []
    extra += [str(settings["subsampling"])] if "subsampling" in settings else []
    return f"{curve.label} ({', '.join([*extra, f'{len(curve.points)} points'])})"


def _images(curve: Curve) -> ImageCurve:
    ic = image_curve(curve)
    if ic is None:
        raise CheckError(f"{curve.label}: no per-image CSV beside its result JSON(s); BD intervals need them")
    return ic


def _measure(model: ImageCurve, anchor: ImageCurve, metric: str, resamples: int, seed: int) -> dict[str, Any]:
    """Both deltas of ``metric`` of ``model`` against ``anchor``, with intervals over images."""
    b = bd_bootstrap(anchor, model, metric, resamples=resamples, seed=seed)
    return {"images": b.images, "bd_rate": b.bd_rate, "bd_metric": b.bd_metric}


def _dataset_images(curves: Sequence[Curve]) -> int | None:
    """How many images the dataset has: the most that a run of ``curves`` recorded
    (``dataset.images``); None when none did."""
    counts = [n for c in curves for r in c.sources
              if isinstance(n := (r.get("dataset") or {}).get("images"), int) and not isinstance(n, bool)]
    return max(counts, default=None)


def _partial_runs(curves: Sequence[Curve]) -> list[str]:
    """Which runs of ``curves`` cover only some images: those not complete, ``--limit`` runs."""
    incomplete, limited = [], []
    for c in curves:
        for r in c.sources:
            name = Path(r["_path"]).name if r.get("_path") else c.label
            if r.get("complete") is False:
                incomplete.append(f"{name} ({r.get('jobs_missing', 'some')} image-setting jobs missing)")
            if (limit := (r.get("dataset") or {}).get("limit")) is not None:
                limited.append(f"{name} ({limit})")
    return ([f"not complete: {', '.join(incomplete)}"] if incomplete else []) + (
        [f"--limit runs: {', '.join(limited)}"] if limited else [])


def _crops(curves: Sequence[Curve]) -> list[str]:
    """The crops the runs of ``curves`` were evaluated at (``dataset.crop``, e.g. ``center
    128x128``), each once; none for runs on whole images."""
    found = [str(crop) for c in curves for r in c.sources
             if (crop := (r.get("dataset") or {}).get("crop")) not in (None, "none")]
    return list(dict.fromkeys(found))


def _span(curve: Curve, key: str) -> str:
    values = [float(p[key]) for p in curve.points if isinstance(p.get(key), int | float)]
    return f"{min(values):.4g}–{max(values):.4g}" if values else "none"


def _overlap_text(d: BDInterval, delta: str, metric: str, model: Curve, anchor: Curve) -> str:
    """The interval the delta averaged over; without one, where each curve lies on that axis."""
    axis = metric if delta == "bd_rate" else "bpp"
    if math.isnan(d.overlap):
        return f"none: {axis} {_span(model, axis)} ({model.label}) vs {_span(anchor, axis)} ({anchor.label})"
    lo, hi = d.interval
    return f"{axis} {lo:.4g}–{hi:.4g} ({100 * d.overlap:.0f} % of the union)"


def check(results_dir: Path, model: str | None = None, elic: str | None = None,
          dataset: str | None = None, resamples: int = 2000, seed: int = 0,
          require_ci: bool = False, min_overlap: float = MIN_OVERLAP,
          allow_subset: bool = False, allow_crop: bool = False) -> dict[str, Any]:
    """Every target (and the ELIC comparison) measured on ``results_dir``: a JSON-ready dict.
    A target measured over less than ``min_overlap`` of the two curves' union fails. A
    CheckError when the results cover only some of the dataset's images (a run not complete, a
    ``--limit`` run, a model and an anchor sharing fewer images than the dataset has), unless
    ``allow_subset``: then the report lists why (``subset``). A CheckError too when the runs
    were on cropped images (``taco evaluate --crop``), unless ``allow_crop``: then the report
    names the crop (``crop``)."""
    ds, curves = _pick_dataset(results_dir, dataset)
    curve = _learned(curves, model, elic, "model")
    anchors = {tgt.codec: _classic(curves, tgt.codec) for tgt in TARGETS}
    base = _learned(curves, elic, None, "elic") if elic is not None else None
    # by label (a curve's one name: collect_curves refuses one label on two kinds); AVIF serves twice
    used = list({c.label: c for c in (curve, *anchors.values(), *([base] if base else []))}.values())
    per_image = {c.label: _images(c) for c in used}
    crops = _crops(used)
    if crops and not allow_crop:
        raise CheckError(f"cannot check: the dataset was cropped to {', '.join(crops)}; the targets are "
                         "on whole photos (evaluate without --crop, or --allow-crop checks them anyway)")
    full = _dataset_images(used)
    subset = _partial_runs(used)
    shared = {other.label: len(set(per_image[curve.label].images) & set(per_image[other.label].images))
              for other in used[1:]}  # counted before any bootstrap: a refusal costs nothing
    if full is not None and (fewer := {k: n for k, n in shared.items() if n < full}):
        subset.append(f"{curve.label} shares with " + ", ".join(f"{k} {n}" for k, n in fewer.items())
                      + f" of the {full} images")
    if subset and not allow_subset:
        raise CheckError("the results cover only some of the images, and issue 14's targets are over all "
                         f"of them: {'; '.join(subset)} (--allow-subset checks them anyway)")
    rows = []
    for tgt in TARGETS:
        anchor = anchors[tgt.codec]
        m = _measure(per_image[curve.label], per_image[anchor.label], tgt.metric, resamples, seed)
        d: BDInterval = m[tgt.delta]
        ok = OPS[tgt.op]
        defined = not math.isnan(d.value)
        ci_ok = defined and not math.isnan(d.low) and ok(d.low, tgt.threshold) and ok(d.high, tgt.threshold)
        overlap_ok = bool(defined and d.overlap >= min_overlap)
        passed = overlap_ok and (ci_ok if require_ci else ok(d.value, tgt.threshold))
        rows.append({**asdict(tgt), "anchor": _describe(anchor), "images": m["images"],
                     "dataset_images": full, **d.to_dict(),
                     "overlap_used": _overlap_text(d, tgt.delta, tgt.metric, curve, anchor), "ci_passed": ci_ok,
                     "overlap_ok": overlap_ok, "passed": passed})
    comparisons = []
    if base is not None:
        for metric in ("psnr", "lpips"):
            m = _measure(per_image[curve.label], per_image[base.label], metric, resamples, seed)
            d = m["bd_rate"]
            comparisons.append({"name": f"BD-rate ({metric.upper()}) vs {base.label}", "anchor": base.label,
                                "metric": metric, "delta": "bd_rate", "images": m["images"],
                                "dataset_images": full, **d.to_dict(),
                                "overlap_used": _overlap_text(d, "bd_rate", metric, curve, base)})
    lpips_input = curve.sources[0].get("lpips_input", "standard")
    return {
        "results": str(results_dir), "dataset": ds, "dataset_images": full, "subset": subset,
        "crop": crops, "model": curve.label,
        "model_curve": _describe(curve), "lpips_input": lpips_input,
        "bootstrap": {"resamples": resamples, "confidence": 0.95, "seed": seed,
                      "method": "percentile bootstrap over the images (taco.evaluation.bdrate.bd_bootstrap)"},
        "pass_rule": ("whole 95 % CI meets the threshold" if require_ci else "value on all images meets the threshold")
        + f", over at least {100 * min_overlap:.0f} % of the curves' union",
        "targets": rows, "comparisons": comparisons, "passed": all(r["passed"] for r in rows),
    }


def _fmt(v: float, r: dict[str, Any]) -> str:
    """A delta with its unit: % for BD-rate, dB for BD-PSNR, LPIPS units otherwise."""
    if math.isnan(v):
        return "n/a"
    if r["delta"] == "bd_rate":
        return f"{v:+.2f} %"
    return f"{v:+.2f} dB" if r["metric"] == "psnr" else f"{v:+.4f}"


def _value_cell(r: dict[str, Any]) -> str:
    if math.isnan(r["value"]):
        return f"n/a ({r['reason']})"
    ci = (f" [{_fmt(r['low'], r)}, {_fmt(r['high'], r)}]"
          if not math.isnan(r["low"]) else " [no CI]")
    skipped = f", {r['undefined']} resamples undefined" if r["undefined"] else ""
    return _fmt(r["value"], r) + ci + skipped


def _images_cell(r: dict[str, Any]) -> str:
    """The images paired, beside the dataset's count: ``14 of 14``."""
    return f"{r['images']} of {r['dataset_images']}" if r.get("dataset_images") is not None else str(r["images"])


def format_report(report: dict[str, Any]) -> str:
    """The report as Markdown: a line of context, the targets table, the ELIC comparison."""
    b = report["bootstrap"]
    lines = [
        f"Model **{report['model_curve']}** on {report['dataset']} (LPIPS {report['lpips_input']}); "
        f"value on all images [95 % CI: {b['method']}, {b['resamples']} resamples, seed {b['seed']}]. "
        f"Pass: {report['pass_rule']}.",
        *([f"**On cropped images (--allow-crop)**: {', '.join(report['crop'])}; the targets are on "
           "whole photos."] if report.get("crop") else []),
        *([f"**Only some of the {report['dataset_images'] or '?'} images (--allow-subset)**: "
           + "; ".join(report["subset"]) + "."] if report["subset"] else []),
        "",
        "| target | anchor | measured [95 % CI] | threshold | pass | overlap used | images |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["targets"]:
        threshold = f"{r['op']} {_fmt(r['threshold'], r)}"
        thin = not math.isnan(r["value"]) and not r["overlap_ok"]
        verdict = "PASS" if r["passed"] else ("FAIL (overlap too thin)" if thin else "FAIL")
        lines.append(f"| {r['name']} | {r['anchor']} | {_value_cell(r)} | {threshold} | {verdict} | "
                     f"{r['overlap_used']} | {_images_cell(r)} |")
    lines += ["", *[f"- {r['name']}: {r['meaning']}." for r in report["targets"]]]
    if report["comparisons"]:
        lines += ["", "| comparison | measured [95 % CI] | overlap used | images |", "|---|---|---|---|"]
        lines += [f"| {c['name']} | {_value_cell(c)} | {c['overlap_used']} | {_images_cell(c)} |"
                  for c in report["comparisons"]]
    passed = sum(r["passed"] for r in report["targets"])
    lines += ["", f"{passed} of {len(report['targets'])} targets pass."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", type=Path, help="taco evaluate's output folder (-o), or a dataset folder in it")
    p.add_argument("--model", help="label of the model's curve (default: the only learned curve "
                   "other than --elic)")
    p.add_argument("--elic", help="label of the same-budget ELIC curve: also report the model's BD-rate "
                   "against it in PSNR and LPIPS")
    p.add_argument("--dataset", help="dataset key when the results hold several (e.g. 'val')")
    p.add_argument("--bootstrap", type=non_negative_int, default=2000, help="bootstrap resamples (default: 2000)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="bootstrap seed (default: 0)")
    p.add_argument("--require-ci", action="store_true",
                   help="pass only when the whole 95 %% interval meets the threshold")
    p.add_argument("--min-overlap", type=float, default=MIN_OVERLAP, metavar="FRACTION",
                   help="a target measured over less of the two curves' union fails "
                   f"(default: {MIN_OVERLAP})")
    p.add_argument("--allow-subset", action="store_true",
                   help="check results that cover only some of the dataset's images (a run not complete, "
                   "a --limit run, curves that share fewer images than the dataset has), saying so; "
                   "without it they cannot be checked (exit 2): the targets are over all images")
    p.add_argument("--allow-crop", action="store_true",
                   help="check results of a run on cropped images (taco evaluate --crop), saying so; "
                   "without it they cannot be checked (exit 2): the targets are on whole photos")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    args = p.parse_args(argv)
    try:
        report = check(args.results, args.model, args.elic, args.dataset, args.bootstrap, args.seed,
                       args.require_ci, args.min_overlap, args.allow_subset, args.allow_crop)
    except (CheckError, ImportError, ResultsFileError, ValueError, OSError) as exc:
        # the results cannot be checked (a malformed or unreadable file, a label naming curves of
        # two kinds, ...): status 2, never 1, which says that a target failed
        print(f"check_targets: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(jsonable(report), indent=2, allow_nan=False))
    else:
        print(format_report(report), end="")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
