"""``taco plot``: rate-distortion figures (PNG + SVG) and BD tables from result JSONs.

One figure per dataset: bpp against PSNR, MS-SSIM, LPIPS, FID (and CMMD) — the panels that have
data. Learned models with the same label (checkpoints of one model at several λ) form one
curve; each classic codec is one curve over its qualities; codecs matched to a model's bpp are
stars. Published numbers from :mod:`taco.evaluation.reference` are dashed, only for the
dataset they were measured on (``reference="auto"``) unless another dataset is named.

Results of one dataset that were run on different images (a photo replaced between two runs into
one folder: their ``dataset.image_content`` differs) are refused; FID (CMMD) values measured in
different ways (whole images and 256 px patches; two CLIP models) are left out of the figure and
the BD table, with a warning.

The BD table against an anchor pairs the images of the runs' CSVs (:func:`image_curve`,
:func:`taco.evaluation.bdrate.bd_bootstrap`: the images with a finite value at every point of
both curves), with or without ``bootstrap`` resamples, which also give its per-image metrics
confidence intervals over the images; from the curves' points where a CSV is missing.
"""

from __future__ import annotations

import errno
import io
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import errors
from ..atomic import write_all_atomic
from ..checks import is_number
from ..errors import TacoValueError, TacoWarning, warn_at_caller
from ..fileobjects import name_key, own_file_problem
from ..jsonfiles import json_text
from ..locks import ForkSafeLock
from ..messages import SPECIAL_FILE, count, did_you_mean, shown_path, some, to_stderr
from .bdrate import METRIC_ORDER, ImageCurve, bd_table, format_bd_table, metric_bpp, rate_metric
from .defaults import BESIDE_RESULTS_SUFFIXES, PLOT_STEM
from .reference import ReferenceCurve, reference_datasets, references_for
from .result_files import (
    IMAGE_CONTENT_MARK,
    IMAGE_METRICS,
    RECORDED_LATER,
    RESULT_FORMAT,
    MalformedResult,
    UnsupportedResultVersion,
    dataset_slug,
    read_result,
    result_csv,
)
from .runner import ResultsFileError, UnreadableResultsCSV, read_rows

__all__ = ["Curve", "OutputExists", "collect_curves", "default_anchor", "image_curve", "load_results", "output_stem",
           "plot_results", "reference_kind", "reference_kinds"]

PANELS = {
    "psnr": ("PSNR (dB) ↑", False),
    "ms_ssim": ("MS-SSIM ↑", False),
    "lpips": ("LPIPS (AlexNet) ↓", True),
    "fid": ("FID ↓", True),
    "cmmd": ("CMMD ↓", True),
}


@dataclass
class Curve:
    """Points of one method on one dataset, sorted by bpp."""

    label: str
    kind: str  # learned | classic | classic-matched
    codec: str
    points: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)  # the result JSONs of the points
    matched_to: str | None = None  # classic-matched: the label of the model run it matched


#: Markers of matched-bpp points, one per model matched to (the codec gives the colour).
MATCHED_MARKERS = ("*", "D", "P", "X", "^", "v", "p", "h")


def matched_markers(curves: Sequence[Curve]) -> dict[str, str]:
    """The marker of each classic-matched curve (by label): one per model run matched to, in
    order of appearance, so JPEG and WebP matched to one model share it and two models differ."""
    targets: dict[str | None, str] = {}
    for c in curves:
        if c.kind == "classic-matched" and c.matched_to not in targets:
            targets[c.matched_to] = MATCHED_MARKERS[len(targets) % len(MATCHED_MARKERS)]
    return {c.label: targets[c.matched_to] for c in curves if c.kind == "classic-matched"}


def load_results(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> list[dict[str, Any]]:
    """Result JSONs (``format: taco-eval``) with points, from files and folders (searched
    recursively), each read by :func:`taco.evaluation.result_files.read_result`.

    ``paths``: one file or folder, or several. Other JSON files in a folder (a BD table, a
    caption-mode comparison, a captions file; one that is not JSON) are skipped, as are results
    without points (a run that has not finished any); a file named in ``paths`` that is not a
    result (not JSON, another format, ...) is refused, a
    :class:`~taco.evaluation.runner.ResultsFileError` naming it and saying why, not left out
    of its figure unsaid (what an evaluation writes beside its results, which ``taco plot
    out/kodak/*`` names too, is passed over: :data:`~taco.evaluation.defaults.BESIDE_RESULTS_SUFFIXES`);
    a path that is there but no file or folder (a FIFO, a broken symbolic link) is refused as such. A result of another version is refused (an
    :class:`~taco.evaluation.result_files.UnsupportedResultVersion`) wherever it is found, and
    so is one whose fields are not what taco writes (a
    :class:`~taco.evaluation.result_files.MalformedResult`: a ``bpp`` of NaN, a ``dataset`` that is no
    object, ...).
    """
    if isinstance(paths, str | os.PathLike):  # one path, not a sequence of its characters
        paths = [paths]
    files: list[Path] = []
    named: set[Path] = set()  # files named in paths: refused, not skipped, when no result
    for p in map(Path, paths):
        if p.is_dir():
            files += _json_files(p)
        elif p.is_file():
            files.append(p)
            named.add(p.resolve())
        elif os.path.lexists(p) and os.path.exists(p):  # open() would wait on a FIFO forever
            raise ResultsFileError(f"{p}: not a regular file ({SPECIAL_FILE}), not a taco evaluation result")
        elif os.path.islink(p):  # named as taco.load names a broken link (registry.not_a_file_message)
            raise ResultsFileError(f"{p} is a broken symbolic link to {os.readlink(p)!r}, not a taco "
                                   "evaluation result")
        else:
            raise FileNotFoundError(errno.ENOENT, "no such file or folder" + _did_you_mean(p), str(p))
    results = []
    given: dict[Path, Path] = {}  # `runs/eval runs/eval/kodak`: once, named as first given
    for f in files:
        given.setdefault(f.resolve(), f)
    for f in given:
        try:
            data = read_result(given[f])
        except (UnsupportedResultVersion, MalformedResult):
            raise
        except ResultsFileError:  # not UTF-8, not JSON, another format, ...: not a result
            if f in named and not given[f].name.lower().endswith(BESIDE_RESULTS_SUFFIXES):
                raise  # named on its own: said, not dropped from the figure unsaid (what taco
                # writes beside the results, named by `OUT/DATASET/*`, is passed over)
            continue  # found in a folder: skipped
        if data.get("points"):
            data["_path"] = str(f)
            results.append(data)
    return results


def _json_files(folder: Path) -> list[Path]:
    """The ``*.json`` files in ``folder`` and below (not hidden ones), sorted. An entry of that
    name that is no regular file (a FIFO, which open() would wait on forever; a socket; a
    symbolic link to nothing or to itself) is skipped with a warning naming it, as a JSON that is
    not a result is skipped."""
    files = []
    for f in sorted(f for f in folder.rglob("*.json") if not f.name.startswith(".")):
        try:
            regular = f.is_file()  # follows a link; False for a FIFO, a socket, a loop, a dangling link
        except OSError:
            regular = False
        if regular:
            files.append(f)
        else:
            warn_at_caller(f"{shown_path(f)} skipped: not a regular file", TacoWarning)
    return files


def _did_you_mean(missing: Path) -> str:
    """`` (did you mean OUT/NAME-crop64?)`` when folders beside the ``missing`` one bear its name
    with the suffixes taco evaluate gives a dataset's folder (``-cropN`` with a crop,
    ``-lpips-official``: :func:`taco.evaluation.results.dataset_dir`), else ''. ``taco plot
    eval1/samples`` after ``--crop 64`` said only "no such file or folder"."""
    parent, name = missing.parent, missing.name
    try:
        found = sorted(f for f in parent.iterdir() if f.is_dir() and (
            re.fullmatch(re.escape(name) + r"-crop\d+(-lpips-official)?", f.name)
            or f.name == name + "-lpips-official"))
    except OSError:  # no such parent either
        return ""
    if not found:
        return ""
    return f" (did you mean {' or '.join(shown_path(f) for f in found[:3])}?)"


def _dataset_key(result: dict[str, Any]) -> str:
    """One figure per key: the dataset, its crop and the LPIPS convention (never mixed)."""
    d = result["dataset"]
    key = d["name"] + (f" (crop {d['crop']})" if d.get("crop", "none") != "none" else "")
    return key + (" [LPIPS official]" if result.get("lpips_input") == "official" else "")


def _architecture(result: dict[str, Any]) -> str | None:
    """A learned run's architecture and text encoder (``taco/minilm``), None when not recorded.

    Checkpoints of one model at several λ share it (their widths may differ, as CompressAI's
    do between low and high rates, so the config as a whole is not compared)."""
    config = (result.get("model") or {}).get("config") or {}
    if "architecture" not in config:
        return None
    text = config.get("text_encoder")
    return str(config["architecture"]) + (f"/{text.get('name')}" if isinstance(text, dict) else "")


def _field(data: Any, *keys: str) -> Any:
    """``data[k1][k2]...``, None where a level is missing or no object (a result edited by hand)."""
    for k in keys:
        data = data.get(k) if isinstance(data, dict) else None
    return data


def _where(r: dict[str, Any]) -> str:
    """A result as a message names it: its file, else its codec."""
    return str(r.get("_path", r.get("codec", "?")))


def _check_same_images(ds: str, results: Sequence[dict[str, Any]]) -> None:
    """A ValueError when results on ``ds`` were run on different images: their datasets' image
    digests (``dataset.image_content``: each image's name, size and modification time, not its
    captions) differ, as after a photo was replaced between two runs into one folder (even by
    one of the same byte size). Their BD-rate would compare other photos, and the bootstrap
    pairs images by name. Results without a digest (older files) are not compared, and a digest
    of names and sizes alone (written before the times were, without
    :data:`~taco.evaluation.datasets.IMAGE_CONTENT_MARK`) only with its like."""
    kinds: dict[bool, dict[str, str]] = {}  # timed or not -> digest -> the first result of it
    for r in results:
        if (content := _field(r, "dataset", "image_content")) is not None:
            content = str(content)
            kinds.setdefault(content.startswith(IMAGE_CONTENT_MARK), {}).setdefault(content, _where(r))
    for digests in kinds.values():
        if len(digests) > 1:
            raise TacoValueError(f"the results on {ds} were run on different images (image digest "
                                  + ", ".join(f"{c}: {shown_path(w)}" for c, w in digests.items())
                                  + "): a photo changed between the runs, or two folders of photos share "
                                  "one name; run them again on the same images")


#: What says how a set metric was measured (its field in a result's ``set_metrics``): FID's mode
#: (whole images or 256 px patches), CMMD's CLIP model. Values measured otherwise are on other
#: scales.
SET_METRIC_HOW = {"fid": "mode", "cmmd": "clip"}


def _measured_ways(results: Sequence[dict[str, Any]], metric: str) -> dict[str, str]:
    """How the results that have values of ``metric`` (fid, cmmd) measured it -> the first of
    them; results that do not say how (older files) are left out."""
    ways: dict[str, str] = {}
    for r in results:
        how = _field(r, "set_metrics", metric, SET_METRIC_HOW[metric])
        if how is not None and any(is_number(p.get(metric)) for p in r["points"]):
            ways.setdefault(str(how), _where(r))
    return ways


def _mixed_set_metrics(ds: str, results: Sequence[dict[str, Any]], metrics: Sequence[str]) -> dict[str, str]:
    """The set metrics of ``metrics`` that ``results`` measured in different ways -> why, each
    said in a warning: they are left out of the figure and the BD table (the other metrics
    still compare)."""
    mixed = {}
    for m in (m for m in metrics if m in SET_METRIC_HOW):
        ways = _measured_ways(results, m)
        if len(ways) > 1:
            flag = "--fid" if m == "fid" else "--cmmd-clip"
            shown = "; ".join(f"{re.split(r' [(]|,', how)[0]}: {shown_path(w)}" for how, w in ways.items())
            mixed[m] = (f"measured in different ways ({shown}), so its values are not on one scale; "
                        f"compare runs of one {flag}")
            warn_at_caller(f"{m.upper()} left out of the figure and BD table of {ds}: {mixed[m]}", TacoWarning)
    return mixed


def _rate_point(result: dict[str, Any], point: dict[str, Any]) -> str | None:
    """What makes a point of a curve one rate: the λ a model was trained at, or its weights and
    quality when no λ is recorded; a classic codec's setting; the model run a matched point
    matched. None when not recorded."""
    if result["kind"] == "classic-matched":
        return f"a match to {result['matched_to']}" if result.get("matched_to") else None
    if result["kind"] != "learned":
        return f"setting {point['setting']}" if point.get("setting") else None
    model = result.get("model") or {}
    lmbda = result.get("lambda", (model.get("metadata") or {}).get("lambda"))
    if lmbda is not None:
        return f"λ {lmbda:g}" if isinstance(lmbda, float | int) else f"λ {lmbda}"
    if model.get("fingerprint"):
        return f"weights {model['fingerprint']}" + (f" {point['setting']}" if point.get("setting") else "")
    return None


def _check_curve(ds: str, curve: Curve) -> None:
    """A ValueError when one label joins runs that are not one RD curve: models of different
    architectures, a codec run with other settings (``codec_settings``: AVIF at speed 6 and 3,
    as ``taco evaluate`` refuses to resume), or the same λ (quality) twice — separate runs given
    one --label, or two folders of the same codec."""
    name = f"{curve.label!r} ({curve.kind}) on {ds}"
    todo = ("give each run its own --label, or plot them from separate folders"
            if curve.kind == "learned" else "plot them from separate folders")

    archs: dict[str, dict[str, Any]] = {}
    for r in curve.sources:
        if (arch := _architecture(r)) is not None:
            archs.setdefault(arch, r)
    if len(archs) > 1:
        raise TacoValueError(f"curve {name} joins models of different architectures ("
                              + ", ".join(f"{a}: {_where(r)}" for a, r in archs.items())
                              + "): give each its own --label, or plot them from separate folders")
    first: dict[str, Any] | None = None  # the first run that records its codec's settings
    for r in curve.sources:
        if not isinstance(settings := r.get("codec_settings"), dict):
            continue  # a model, or an older result
        if first is None:
            first = r
            continue
        # a setting only one records was recorded later: no difference (as evaluate's resume)
        theirs = first["codec_settings"]
        key = next((k for k in theirs if k in settings and theirs[k] != settings[k]), None)
        if key is not None:
            raise TacoValueError(f"curve {name} joins runs with different codec settings ({key} "
                                  f"{theirs[key]!r:.60} in {_where(first)}, {settings[key]!r:.60} in "
                                  f"{_where(r)}): {todo}")
    seen: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # key -> its first result and point
    twice: list[tuple[str, dict[str, Any], bool]] = []  # key, the later result, whether its values differ
    for r in curve.sources:
        for p in r["points"]:
            if p.get("bpp") is None or (key := _rate_point(r, p)) is None:
                continue
            if key in seen:
                twice.append((key, r, not _agree(seen[key][1], p)))
            else:
                seen[key] = r, p
    if twice:  # the first setting whose values differ, else the first given twice
        key, r, _ = next((t for t in twice if t[2]), twice[0])
        raise TacoValueError(f"curve {name} has {key} twice, with other results ({_where(seen[key][0])}, "
                              f"{_where(r)}): {todo}")


#: Keys of a result's ``run`` that do not make two results two runs: which set metrics (FID, CMMD)
#: were computed, and the device and version recorded since (:data:`RECORDED_LATER`, absent from
#: older files); runs that differ in them alone, with points that agree, are one run twice.
#: A key that only one of two results has is not compared either (:func:`_same_where_both`).
_RUN_KEYS_NOT_COMPARED = frozenset({"set_metrics"}) | RECORDED_LATER


def _same_where_both(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Every key both objects have holds the same value, nested objects compared the same way.
    A key one lacks was recorded later: results written before ``run.lpips_input``,
    ``run.label`` and ``run.dataset.content`` were recorded lack them, and are still the same
    run as a newer copy of themselves."""
    for k in a.keys() & b.keys():
        x, y = a[k], b[k]
        if not (_same_where_both(x, y) if isinstance(x, dict) and isinstance(y, dict) else x == y):
            return False
    return True


def _agree(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Every key both points have a value for is equal: a metric one did not compute (missing or
    null, as FID in a run with ``--fid off``) is no difference."""
    return all(a[k] == b[k] for k in a.keys() & b.keys() if a[k] is not None and b[k] is not None)


def _same_results(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two results are one run's twice: the same ``run`` (but for its set metrics, and
    keys only one of them records) and points of the same settings that agree wherever both
    have a value (JPEG run into two folders, one of them with FID; an older run's copy). Their
    ``run.dataset.content`` is compared only with its like (:func:`_run_content`): a digest of
    names and sizes that an earlier taco wrote is no difference beside one that holds the
    images' modification times (the same run resumed or made again by a newer taco)."""
    def run(r: dict[str, Any], like: bool) -> dict[str, Any]:
        kept = {k: v for k, v in (r.get("run") or {}).items() if k not in _RUN_KEYS_NOT_COMPARED}
        if isinstance(kept.get("dataset"), dict) and "content" in kept["dataset"]:
            content = _run_content(r)  # compared only with its like
            kept["dataset"] = {k: v for k, v in kept["dataset"].items() if k != "content"}
            if like and content is not None:
                kept["dataset"]["content"] = content[1]
        return kept

    ca, cb = _run_content(a), _run_content(b)
    like = ca is None or cb is None or ca[0] == cb[0]
    pa, pb = a["points"], b["points"]
    return _same_where_both(run(a, like), run(b, like)) and len(pa) == len(pb) and all(
        p.get("setting") == q.get("setting") and _agree(p, q) for p, q in zip(pa, pb, strict=True))


def _run_content(result: dict[str, Any]) -> tuple[bool, str] | None:
    """A result's ``run.dataset.content``: whether it holds the images' modification times, and
    the digest without :data:`~taco.evaluation.datasets.IMAGE_CONTENT_MARK`. It holds them when
    marked, or when unmarked beside a marked ``dataset.image_content`` (the taco between the
    two marks); unmarked beside an unmarked or no image digest, it holds names, sizes and
    captions alone (an earlier taco's). None without one."""
    content = _field(result, "run", "dataset", "content")
    if content is None:
        return None
    content = str(content)
    if content.startswith(IMAGE_CONTENT_MARK):
        return True, content[len(IMAGE_CONTENT_MARK):]
    return str(_field(result, "dataset", "image_content")).startswith(IMAGE_CONTENT_MARK), content


def _richness(result: dict[str, Any]) -> int:
    """How many values a result's points hold (of two that agree, the one to keep)."""
    return sum(v is not None for p in result["points"] for v in p.values())


def collect_curves(results: Sequence[dict[str, Any]]) -> dict[str, list[Curve]]:
    """dataset name -> its curves (learned runs of one label merged into one curve).

    The same results found twice (a copied folder, the same codec run in two folders, one of them
    with FID: every value both have agrees) count once, the one with more values. A ValueError
    when results of one dataset were run on different images (their ``dataset.image_content``
    differs), when a label joins runs that are not one curve (models of different
    architectures, a codec run with other settings, the same λ or classic setting twice with
    other results) or names curves of
    two kinds (a model labelled ``JPEG`` beside the JPEG codec).
    """
    by_dataset: dict[str, dict[str, Curve]] = {}
    for r in results:
        curves = by_dataset.setdefault(_dataset_key(r), {})
        label = r["label"]
        gap, first = r.get("bpp_gap", {}).get("mean_abs"), r["points"][0].get("bpp")
        if r["kind"] == "classic-matched" and gap is not None and first is not None and gap > 0.05 * first:
            label += " (closest reachable)"  # the model's bpp is beyond the codec's range
        curve = curves.setdefault(f"{r['kind']}|{label}", Curve(label, r["kind"], r.get("codec", ""),
                                                                 matched_to=r.get("matched_to_label")))
        same = next((i for i, s in enumerate(curve.sources) if _same_results(s, r)), None)
        if same is None:
            curve.sources.append(r)
        elif _richness(r) > _richness(curve.sources[same]):  # the same results twice: once, the
            curve.sources[same] = r  # one with more values (FID from the run that computed it)
    out: dict[str, list[Curve]] = {}
    for ds, curves in by_dataset.items():
        _check_same_images(ds, [r for c in curves.values() for r in c.sources])
        kinds: dict[str, list[str]] = {}
        for c in curves.values():
            kinds.setdefault(c.label, []).append(c.kind)
        for label, both in kinds.items():
            if len(both) > 1:  # the legend, the BD table and --anchor know a curve by its label
                raise TacoValueError(f"label {label!r} on {ds} names curves of two kinds ({' and '.join(both)}): "
                                      "give the model another --label")
        for c in curves.values():
            c.points = [{**p, "dataset_kind": reference_kind(r)}
                        for r in c.sources for p in r["points"] if p.get("bpp") is not None]
            _check_curve(ds, c)
            c.points.sort(key=lambda p: p["bpp"])
        out[ds] = list(curves.values())
    return out


def reference_kind(result: dict[str, Any]) -> str | None:
    """The dataset kind whose published points ``reference="auto"`` draws beside ``result``: its
    dataset's ``kind``, None when the result records that its folder is not the paper's set
    (``dataset.paper_set`` false: a ``kodak:DIR`` of 2 of the 24 images). Older results, which
    do not record it, count as the paper's set."""
    dataset = result["dataset"]
    return None if dataset.get("paper_set") is False else dataset.get("kind")


def image_curve(curve: Curve, metrics: Sequence[str] = IMAGE_METRICS) -> ImageCurve | None:
    """The per-image rows behind ``curve``: each image's bpp and ``metrics`` at every point.

    Read from the CSV each result JSON names (``csv``, beside it), only the rows the JSON's
    points summarise (their ``setting``, dataset index below its image count: a CSV may hold
    more, from a run with a larger ``--limit``; the first row of an image, as in the summary).
    Images missing at some point are left out. None when a result has no CSV to read (written
    by hand, or moved without it) or no image has every point; a ResultsFileError when its
    ``csv`` is not a file name (:func:`taco.evaluation.result_files.result_csv`), an
    :class:`~taco.evaluation.runner.UnreadableResultsCSV` when a value is not a number or the
    CSV has no ``image`` column.
    """
    columns: list[dict[str, dict[str, str]]] = []  # one per point: image -> its row
    files: list[Path] = []  # the CSV of each column
    for r in curve.sources:
        csv = result_csv(r["_path"], r) if r.get("_path") and r.get("csv") else None
        if csv is None or not csv.is_file():
            return None
        n_images = r.get("dataset", {}).get("images")
        rows = read_rows(csv)
        if rows and "image" not in rows[0]:
            raise UnreadableResultsCSV(f"{csv}: not a taco results CSV (it has no image column)")
        for p in r["points"]:
            if p.get("bpp") is None:
                continue
            column: dict[str, dict[str, str]] = {}
            for row in rows:
                index = row.get("index", "")
                if row.get("setting", "") != p.get("setting", "") or (
                        n_images is not None and index.isdigit() and int(index) >= n_images):
                    continue
                column.setdefault(row["image"], row)
            columns.append(column)
            files.append(csv)
    if not columns:
        return None
    images = tuple(name for name in columns[0] if all(name in c for c in columns[1:]))
    if not images:
        return None

    def number(j: int, name: str, key: str) -> float:
        cell = columns[j][name].get(key) or "nan"
        try:
            return float(cell)
        except ValueError:  # a CSV edited by hand or by another tool: not taco's
            raise UnreadableResultsCSV(f"{files[j]}: not a taco results CSV ({key} of {name} is "
                                       f"{cell[:40]!r}, not a number)") from None

    def values(key: str) -> np.ndarray:  # (images, points)
        return np.array([[number(j, name, key) for j in range(len(columns))] for name in images])

    return ImageCurve(images, values("bpp"), {m: values(m) for m in metrics})


#: Fixed colours, so that a codec looks the same in every figure.
CODEC_COLORS = {"jpeg": "tab:orange", "webp": "tab:green", "avif": "tab:red", "bpg": "tab:purple",
                "vtm": "tab:brown"}
LEARNED_COLORS = ("tab:blue", "tab:cyan", "tab:olive", "tab:pink", "navy", "teal")
REFERENCE_COLORS = ("0.3", "tab:purple", "tab:brown", "goldenrod", "tab:pink")
_KIND_ORDER = {"learned": 0, "classic": 1, "classic-matched": 2}


class _Palette:
    """A stable colour per curve: fixed for classic codecs, in order of first use for models and
    references (one palette serves every figure of a :func:`plot_results` call)."""

    def __init__(self) -> None:
        self.colors: dict[str, Any] = {}
        self.used = {"learned": 0, "ref": 0}

    def __call__(self, key: str, group: str = "learned") -> Any:
        if key in CODEC_COLORS:
            return CODEC_COLORS[key]
        if key not in self.colors:
            cycle = REFERENCE_COLORS if group == "ref" else LEARNED_COLORS
            self.colors[key] = cycle[self.used[group] % len(cycle)]
            self.used[group] += 1
        return self.colors[key]

    def within(self, labels: Sequence[str]) -> Callable[..., Any]:
        """This palette for one figure whose models' curves are ``labels``: each label its own
        colour, unless a label given its colour first (in the order of first use) has it in this
        figure already (the cycle wrapped across figures): then the next colour of the cycle that
        is free in this figure, while one is."""
        order = {key: i for i, key in enumerate(self.colors)}
        taken: dict[str, Any] = {}
        for label in sorted(dict.fromkeys(labels), key=lambda key: order.get(key, len(order))):
            colour = self(label)
            if colour in taken.values():
                start = LEARNED_COLORS.index(colour) if colour in LEARNED_COLORS else 0
                free = [c for c in LEARNED_COLORS[start:] + LEARNED_COLORS[:start] if c not in taken.values()]
                colour = free[0] if free else colour
            taken[label] = colour
        return lambda key, group="learned": taken[key] if group == "learned" and key in taken else self(key, group)


def reference_kinds(reference: str) -> list[str] | None:
    """The dataset kinds whose published points ``reference`` asks for: None for ``auto`` (the
    results' own kind), ``[]`` for ``none``, else the kinds it names, comma-separated
    (``kodak,coco30k``). A TacoValueError, one line, for a name with no reference points, or
    ``auto``/``none`` among others; ``taco evaluate`` and ``taco plot`` check it before any work."""
    wanted = [k.strip() for k in reference.split(",") if k.strip()]
    if wanted in (["auto"], ["none"]):
        return None if wanted == ["auto"] else []
    have = reference_datasets()
    unknown = sorted({k for k in wanted if k not in have}) if wanted else [reference]
    if unknown:
        raise TacoValueError(f"no reference points for {unknown}; have {have}")
    return [*dict.fromkeys(wanted)]


def _references(wanted: list[str] | None, kinds: set[str]) -> list[ReferenceCurve]:
    """The published curves to draw: those of ``wanted`` (:func:`reference_kinds`), or of the
    results' own dataset ``kinds`` for ``auto`` (None)."""
    return [r for k in (sorted(kinds) if wanted is None else wanted) for r in references_for(k)]


def plot_results(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    reference: str = "auto",
    metrics: Sequence[str] | None = None,
    anchor: str | None = None,
    title: str | None = None,
    bootstrap: int = 0,
    seed: int = 0,
    auto_anchor: bool = False,
    overwrite: bool = True,
    out_folder: bool = True,
    own_names: bool | None = None,
) -> list[Path]:
    """Draw the RD figure(s) of the results in ``paths`` (files and folders, or one of them);
    return the files written.

    ``out`` is a path stem (``out_dir/rd`` -> ``rd.png`` + ``rd.svg``; ``rd.png`` or ``rd.SVG``
    is the stem ``rd``, ``rd.pdf`` a ValueError: :func:`output_stem`; with several datasets ``rd-DATASET.png`` ..., :func:`dataset_slug`; two
    datasets on one file are a ValueError, before any is written) or a folder to draw ``rd.png``
    ... into: one that exists, a name ending with a path separator (``figs/``), or ``.``, ``..``,
    ``""`` (the current folder); ``out_folder=False`` takes ``out`` as a stem even where a
    folder of that name exists (``taco evaluate``'s ``OUT/DATASET/rd``, beside a folder ``rd``). ``reference``: ``auto`` (published points of the results' own
    dataset kind), ``none``, or dataset kinds such as ``kodak``. ``metrics``: the panels (of
    :data:`PANELS`; another name is a ValueError), those with data drawn, a name given twice once;
    None: all of them, :data:`METRIC_ORDER`. Where ``metrics`` is given (all of them too), each left out for want
    of data is said in a warning. ``anchor``: a curve label; adds
    ``STEM.bdrate.md`` / ``.json`` with BD-rate and BD-metric of every other curve against it:
    over the images paired from the runs' CSVs where those are beside their JSONs (the images
    with a finite value at every point of both curves), with 95 % bootstrap intervals over them
    when ``bootstrap`` (resamples, seeded by ``seed``) is above 0 (a cell of a curve whose JSON
    has no CSV beside it, or of every curve when the anchor's has none, says so in its
    ``ci_reason``, as one over too few images does). ``auto_anchor``: with no
    ``anchor``, each dataset's table is against :func:`default_anchor` of its curves (``taco
    plot``, ``taco evaluate``), none where no classic codec has a curve; a figure with no table
    removes an earlier ``STEM.bdrate.md`` / ``.json`` of its stem (it would not match the new
    figure) once its files are written. ``overwrite=False``:
    an :class:`OutputExists` naming the files it would write (or remove) that exist, before any is
    written (``taco plot`` without ``--force``); no file is replaced then, either: one that
    another process wrote after that check (two plots to one name) is an :class:`OutputExists`
    naming it with ``meanwhile`` set, and none of this call's files is left (each is published
    only if its name is free, those published before it are removed again:
    :func:`taco.atomic.write_all_atomic`). The files of all figures and tables are written
    together, all or none.

    ``own_names``: the files' names are taco's, in a folder (None: where ``out`` is taken as a
    folder, ``figs/`` -> ``figs/rd.png``; ``taco evaluate`` passes True for its output folder's
    ``rd``): a file of them that is a symbolic link, dangling or not, is a
    :class:`~taco.errors.TacoValueError` naming it and its target before any is drawn or written
    (:func:`taco.fileobjects.own_file_problem`), with or without ``overwrite``. A stem the caller
    names (``figs/kodak``) is written through a link, as ``cp`` does.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    asked = metrics is not None  # not the default all: say which have no data
    metrics = METRIC_ORDER if metrics is None else [*dict.fromkeys(metrics)]  # a repeat: one panel
    if not metrics:
        raise TacoValueError(f"no metric named (--metrics ''): the metrics are: {', '.join(PANELS)}")
    unknown = [m for m in metrics if m not in PANELS]
    if unknown:
        named = ", ".join(m + did_you_mean(m, PANELS) for m in unknown)
        raise TacoValueError(f"unknown metric{'s' if len(unknown) > 1 else ''} {named}; "
                              f"the metrics are: {', '.join(PANELS)}")
    wanted = reference_kinds(reference)  # before any result is read
    results = load_results(paths)
    if not results:
        raise TacoValueError(f"no {RESULT_FORMAT} result JSONs with points in {', '.join(map(str, paths))}")
    stem = output_stem(out, folder=out_folder)
    if own_names is None:
        own_names = out_folder and _names_a_folder(out)
    datasets = collect_curves(results)
    figures: list[_Figure] = []  # all of them before anything is written
    for ds, curves in datasets.items():
        base = stem if len(datasets) == 1 else stem.with_name(f"{stem.name}-{dataset_slug(ds)}")
        ds_results = [r for c in curves for r in c.sources]
        refs = _references(wanted, {p["dataset_kind"] for c in curves for p in c.points} - {None})
        mixed = _mixed_set_metrics(ds, ds_results, metrics)
        panels = [m for m in metrics if m not in mixed and (
            any(is_number(p.get(m)) for c in curves for p in c.points) or any(r.has(m) for r in refs))]
        if not panels:
            if asked and len(datasets) > 1:  # said, not dropped unseen: the others are drawn
                warn_at_caller(f"{ds} left out: none of {', '.join(metrics)} has a value there", TacoWarning)
            continue
        if asked:
            for m in (m for m in metrics if m not in panels and m not in mixed):
                warn_at_caller(f"{PANELS[m][0].split()[0]} left out of the figure of {ds}: no point there has a "
                               "value of it", TacoWarning)
        curves = sorted(curves, key=_legend_order)
        label = find_anchor(anchor, ds, curves) if anchor else default_anchor(curves) if auto_anchor else None
        figures.append(_Figure(base, ds, curves, refs, panels, ds_results, label, mixed))
    if not figures:  # every point without a bpp, or without a value of the panels asked for
        raise TacoValueError(f"nothing to draw: no point of the results in {', '.join(map(str, paths))} "
                              f"has a bpp and a value of {', '.join(metrics)}")
    _check_distinct_outputs(figures)
    if own_names:  # before "exists" (a dangling link is no file) and before anything is drawn
        for p in (p for f in figures for p in f.outputs()):
            why = own_file_problem(p, writer="taco writes its figure files in a folder by names of its own",
                                   otherwise="name the files with -o STEM (written through a link, as cp does)")
            if why is not None:
                raise TacoValueError(why)
    existing = [p for f in figures for p in (*f.outputs(), *f.stale()) if _taken(p)]
    if existing and not overwrite:
        raise OutputExists(existing)
    tables = [_bd_table(f, bootstrap, seed) for f in figures]  # CSVs that cannot be read: nothing written
    color = _Palette()  # one for every figure: a label has the same colour in each (where it can)
    for f in figures:
        for c in f.curves:
            if c.kind == "learned":
                color(c.label)
    files: dict[Path, bytes] = {}  # every figure drawn before any file is written
    for f, table in zip(figures, tables, strict=True):
        files |= _figure_files(f, title, color) | _bd_table_files(f, table)
    try:  # all or none; without overwrite none replaced: one written meanwhile is refused
        written = write_all_atomic(files, replace=overwrite)
    except FileExistsError as exc:
        if overwrite or exc.filename not in {str(p) for p in files}:
            raise
        raise OutputExists([Path(exc.filename)], meanwhile=True) from None
    for p in (p for f in figures for p in f.stale()):  # an earlier figure's table: not of this one
        p.unlink(missing_ok=True)
    return written


def _taken(path: Path) -> bool:
    """Whether an output's name is taken without ``--force``: a file, or a link to a missing one
    (published over only with it). A loop of links raises its OSError (ELOOP), as the write with
    ``--force`` does: there is no file to write through to."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise
        return os.path.lexists(path)
    return True


#: Suffixes of images :func:`output_stem` refuses (in any case): the figure is PNG and SVG only, and
#: ``-o fig.pdf`` wrote ``fig.pdf.png`` and ``fig.pdf.svg`` unsaid.
OTHER_IMAGE_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".eps", ".ps", ".tif", ".tiff", ".webp", ".gif")


def output_stem(out: str | os.PathLike[str], *, folder: bool = True) -> Path:
    """The path stem of :func:`plot_results`'s ``out``: with ``folder``, a folder (one that
    exists, a name ending with a path separator, or one whose last part is empty, ``.`` or
    ``..``) means ``rd`` inside it, as ``taco plot`` without ``-o``; a ``.png`` or ``.svg``
    suffix, in any case, is dropped. Another image suffix (:data:`OTHER_IMAGE_SUFFIXES`:
    ``fig.pdf``, ``fig.JPG``) is a :class:`~taco.errors.TacoValueError` saying to give a stem."""
    path = Path(out)
    if folder and _names_a_folder(out):
        return path / PLOT_STEM
    suffix = path.suffix.lower()
    if suffix in OTHER_IMAGE_SUFFIXES:  # fig.pdf would be fig.pdf.png, fig.pdf.svg, fig.pdf.bdrate.md
        stem = path.with_suffix("")
        raise TacoValueError(f"{shown_path(path)}: taco plot writes PNG and SVG, not {path.suffix}: give a path "
                              f"stem ({shown_path(stem)} -> {stem.name}.png, {stem.name}.svg)")
    return path.with_suffix("") if suffix in (".png", ".svg") else path


def _names_a_folder(out: str | os.PathLike[str]) -> bool:
    """Whether :func:`output_stem` takes ``out`` as a folder (``rd`` inside it)."""
    return os.path.basename(os.fspath(out)) in ("", ".", "..") or Path(out).is_dir()


class OutputExists(errors.OutputExists):
    """:func:`plot_results` with ``overwrite=False`` found files it would write (``paths``):
    before drawing, or, ``meanwhile``, one written by another process since, when it came to
    publish its files. A :class:`taco.errors.OutputExists` (so a ``FileExistsError``), as
    :func:`taco.official.import_checkpoint_file`'s refusal: ``except taco.errors.OutputExists``
    catches both."""

    def __init__(self, paths: Sequence[Path], meanwhile: bool = False) -> None:
        self.paths = list(paths)
        self.meanwhile = meanwhile
        when = " (written meanwhile, by another process?)" if meanwhile else ""
        super().__init__(f"{some(self.paths)} exist{'s' if len(self.paths) == 1 else ''}{when}")

    def __reduce__(self) -> tuple[type[OutputExists], tuple[list[Path], bool]]:
        return type(self), (self.paths, self.meanwhile)  # rebuilt from its paths, as a worker's error is


@dataclass
class _Figure:
    """One dataset's figure as :func:`plot_results` plans it: what it draws, its BD table's anchor
    (None: no table) and the set metrics left out of both (metric -> why)."""

    base: Path
    ds: str
    curves: list[Curve]
    refs: list[ReferenceCurve]
    panels: list[str]
    ds_results: list[dict[str, Any]]
    anchor: str | None
    left_out: dict[str, str]

    def outputs(self) -> list[Path]:
        """The files it writes: its PNG and SVG, then its BD table's ``.bdrate.md`` and
        ``.bdrate.json`` when it has an anchor."""
        tables = [self.base.with_name(self.base.name + f".bdrate{s}") for s in (".md", ".json")]
        figures = [self.base.with_name(self.base.name + s) for s in (".png", ".svg")]  # fig.v2 -> fig.v2.png
        return [*figures, *(tables if self.anchor else [])]

    def stale(self) -> list[Path]:
        """The BD table's files when it has no anchor: an earlier figure's of that name, which
        would not match this one, so :func:`plot_results` removes them once it has written its
        files (taken, they stop it without ``overwrite``, as its own outputs do)."""
        return [] if self.anchor else [self.base.with_name(self.base.name + f".bdrate{s}") for s in (".md", ".json")]


def _check_distinct_outputs(figures: Sequence[_Figure]) -> None:
    """A ValueError naming both datasets when two figures would write one file (datasets ``a b``
    and ``a/b`` are both ``rd-a-b.png``; ``Kodak`` and ``kodak`` on macOS and Windows, whose file
    names are case-blind, and ``café`` with its é composed and decomposed on macOS: names are
    compared by :func:`taco.fileobjects.name_key`, refused everywhere, so a run means the same on
    every system), before anything is written: the second would replace the first."""
    owner: dict[str, str] = {}
    for f in figures:
        for path in f.outputs():
            key = name_key(str(path))
            if key in owner:
                raise TacoValueError(f"datasets {owner[key]!r} and {f.ds!r} would both be drawn to "
                                      f"{shown_path(path)}; plot each dataset's results with its own -o")
            owner[key] = f.ds


def _legend_order(curve: Curve) -> tuple[int, int, str]:
    """Where a curve goes in a figure's legend: models, then classic codecs (JPEG, WebP, AVIF,
    BPG, VTM: :data:`CODEC_COLORS`' order, then any other codec, e.g. one of the user's own
    :class:`~taco.evaluation.classic.ClassicCodec`), then matched points; by label within each."""
    codecs = list(CODEC_COLORS)
    return (_KIND_ORDER.get(curve.kind, 3), codecs.index(curve.codec) if curve.codec in codecs else len(codecs),
            curve.label)


def default_anchor(curves: Sequence[Curve]) -> str | None:
    """The BD table's anchor when none is named: the label of the first classic codec with a
    curve among ``curves``, in the legend's order (JPEG, WebP, AVIF, BPG, VTM, then any other
    codec by label), else None (no table). ``taco evaluate`` anchors on this over the ``--classic``
    codecs it ran when given some, and over the folder's curves otherwise; ``taco plot`` over the
    folder's curves, so both write the same table from the same folder."""
    classic = sorted((c for c in curves if c.kind == "classic"), key=_legend_order)
    return classic[0].label if classic else None


def find_anchor(anchor: str, ds: str, curves: Sequence[Curve]) -> str:
    """The label of the curve ``anchor`` names (exactly, else ignoring case: ``jpeg`` is
    ``JPEG``); a ValueError naming the curves there are when none is, or the ones it matches
    when it matches several only ignoring case (``ours`` with ``Ours`` and ``OURS``)."""
    labels = [c.label for c in curves if c.kind != "classic-matched"]
    if anchor in labels:
        return anchor
    same = sorted({label for label in labels if label.casefold() == anchor.casefold()})
    if len(same) == 1:
        return same[0]
    if same:
        named = ("both " if len(same) == 2 else "") + ", ".join(map(repr, same[:-1])) + f" and {same[-1]!r}"
        raise TacoValueError(f"--anchor {anchor!r} matches {named} on {ds} (ignoring case): give the exact label")
    raise TacoValueError(f"--anchor {anchor!r} is none of the curves on {ds}: {', '.join(sorted(set(labels)))}")


#: The start of what matplotlib logs, on each import, when its default config or cache folder
#: (under $HOME) cannot be made (HOME=/nonexistent, a read-only home): it then makes a
#: temporary one, removed at exit, by itself, so nothing is amiss for a figure.
_MPL_NO_HOME_FOLDER = ("mkdir -p failed for path", "%s is not a writable directory",
                       "Matplotlib created a temporary cache directory")


def _figure_class() -> Any:
    """matplotlib's ``Figure``, imported without matplotlib's two-line warning that its default
    folder cannot be made (while MPLCONFIGDIR is not set: one set but unusable is the user's, and
    still said). A figure of its own, not pyplot's: nothing of pyplot's global state (its figure
    manager, the current figure) is touched, from any thread."""
    import logging

    def keep(record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_MPL_NO_HOME_FOLDER)

    quiet = not os.environ.get("MPLCONFIGDIR")
    logger = logging.getLogger("matplotlib")
    if quiet:
        logger.addFilter(keep)
    try:
        from matplotlib.figure import Figure
    finally:
        if quiet:
            logger.removeFilter(keep)
    return Figure


#: Held while a figure is drawn and saved: its SVG is saved under matplotlib's global rcParams
#: ``svg.fonttype`` and ``svg.hashsalt``, set for the moment (the drawing reads rcParams too).
#: Two figures drawn at once in two threads (a web service's) gave SVGs with the text drawn as
#: paths and random ids, and left those rcParams changed.
_DRAWING = ForkSafeLock()


def _figure_files(f: _Figure, title: str | None, color: _Palette) -> dict[Path, bytes]:
    """One dataset's figure: a panel per metric, one legend below, as PNG and SVG (path ->
    bytes, to be written), its curves in ``color``'s colours (:meth:`_Palette.within`: no two
    of its models' alike while the palette has a colour none of them has). One figure at a time
    in the process (:data:`_DRAWING`)."""
    Figure = _figure_class()
    with _DRAWING:
        png, svg = _draw_and_save(Figure, f, title, color)
    png_path, svg_path = f.outputs()[:2]
    return {png_path: png, svg_path: svg}


def _draw_and_save(Figure: Any, f: _Figure, title: str | None, color: _Palette) -> tuple[bytes, bytes]:
    """:func:`_draw_figure`'s figure drawn, as PNG and SVG bytes."""
    import matplotlib

    ds, curves, refs, panels, ds_results = f.ds, f.curves, f.refs, f.panels, f.ds_results
    colour = color.within([c.label for c in curves if c.kind == "learned"])
    ncols = min(len(panels), 3 if len(panels) > 4 else 2 if len(panels) == 4 else len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(5.2 * ncols, 4.0 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    rates = {m: rate_metric([c.points for c in curves], m) for m in panels}  # one rate per panel
    all_bpp = [p["bpp"] for c in curves for p in c.points] + [
        metric_bpp(p, rates[m]) for c in curves for p in c.points for m in panels if is_number(p.get(m))] + [
        p["bpp"] for r in refs for p in r.points if any(m in p for m in panels)]
    log_x = max(all_bpp) / max(min(all_bpp), 1e-9) > 8
    lo, hi = min(all_bpp), max(all_bpp)
    span = hi - lo if hi > lo else hi or 1.0  # one bpp: 5 % of it either side, not 5e-11
    xlim = (lo / 1.15, hi * 1.15) if log_x else (max(0.0, lo - 0.05 * span), hi + 0.05 * span)
    markers = matched_markers(curves)
    handles: dict[str, Any] = {}  # legend label -> its line, the first drawn
    for ax, m in zip(axes.flat, panels, strict=False):
        for lab, h in _draw_panel(ax, m, rates[m], curves, refs, colour, markers, ds_results).items():
            handles.setdefault(lab, h)
        ax.set_xlim(*xlim)  # the same bpp range in every panel
        ax.ticklabel_format(useOffset=False)  # 0.1975, not 1e-10+1.975e-1 under the ticks
        if log_x:
            _log_bpp_axis(ax)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    heading = title or f"Rate-distortion on {shown_path(ds)}: {_images_text(ds_results)}"
    if any(c.kind == "learned" and "untrained" in c.label for c in curves):
        heading += "\n(untrained = random seed-0 weights: its quality numbers are meaningless)"
    _literal(fig.suptitle(heading, fontsize=12), breaks=True)  # its own line break, or a title's
    longest = max((len(shown_path(h)) for h in handles), default=0)  # as the legend shows it
    ncol = max(1, min(4 if longest < 28 else 3 if longest < 40 else 2, len(handles)))
    legend = fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=ncol, fontsize=9,
                        frameon=False)
    for text in legend.get_texts():
        _literal(text)
    legend_rows = math.ceil(len(handles) / ncol)
    fig.tight_layout(rect=(0, 0.045 * legend_rows + 0.02, 1, 0.95))
    png, svg = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png", dpi=130)
    # text kept as text (searchable, editable); no date and fixed ids: the same figure, the same bytes
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "taco"}):
        fig.savefig(svg, format="svg", metadata={"Date": None})
    return png.getvalue(), svg.getvalue()


def _images_text(results: Sequence[dict[str, Any]]) -> str:
    """How many images the curves of a figure are over: ``8 images``, or ``4-8 images`` where
    runs of one dataset with another ``--limit`` are drawn together (the title said the most)."""
    counts = sorted({int(n) for r in results if is_number(n := r["dataset"].get("images"))}) or [0]
    return count(counts[0], "image") if len(counts) == 1 else f"{counts[0]}-{counts[-1]} images"


def _literal(text: Any, *, breaks: bool = False) -> Any:
    """The matplotlib ``Text`` ``text``, set to be drawn as typed: a label, title or dataset name
    comes from the user (``--label``, ``--title``, a result JSON), and as mathtext (or LaTeX, under
    an rc of ``text.usetex``) ``$\\foo{$`` stops the figure with a parse error and ``$x$`` draws
    an italic x. A control character (a tab, ESC, a line feed in a label an older taco wrote)
    is shown as the BD table shows it, :func:`~taco.messages.shown_path`'s ``\\t``: drawn raw
    it was a missing glyph ("Glyph 9 (\\t) missing from font(s)") and an ESC made rd.svg
    invalid XML. ``breaks``: the text's line feeds are its lines (the figure's heading), kept."""
    lines = text.get_text().split("\n") if breaks else [text.get_text()]
    text.set_text("\n".join(map(shown_path, lines)))
    text.set_parse_math(False)
    text.set_usetex(False)
    return text


def _draw_panel(ax: Any, m: str, rate: str, curves: list[Curve], refs: list[ReferenceCurve], color: Callable[..., Any],
                markers: dict[str, str], ds_results: list[dict[str, Any]]) -> dict[str, Any]:
    """Metric ``m`` against bpp (``rate``: :func:`taco.evaluation.bdrate.rate_metric`'s for the
    panel's curves): every curve that has it, then the published references; returns the legend
    entries, label -> line. (The lines carry no label: matplotlib leaves a label
    that starts with ``_`` out of a legend it gathers from the axes.)"""
    lpips_input = ds_results[0].get("lpips_input", "standard")
    entries: dict[str, Any] = {}
    for c in curves:
        # each point at the bpp of the images its mean of ``m`` is over (MS-SSIM: not those under
        # 161 px), or of all images in every curve when an older result has no other
        xys = sorted(((metric_bpp(p, rate), p[m]) for p in c.points if is_number(p.get(m))),
                     key=lambda xy: xy[0])
        if not xys:
            continue
        x, y = [xy[0] for xy in xys], [xy[1] for xy in xys]
        if c.kind == "classic-matched":
            star = markers[c.label] == "*"
            (line,) = ax.plot(x, y, markers[c.label], ms=13 if star else 9, color=color(c.codec), mec="black",
                              mew=0.6)
        else:
            (line,) = ax.plot(x, y, "o-" if len(xys) > 1 else "o", ms=5 if c.kind == "classic" else 8,
                              lw=1.6, color=color(c.label if c.kind == "learned" else c.codec))
        entries.setdefault(c.label, line)
    for r in refs:
        pts = [p for p in r.points if m in p]
        if pts:
            other = r.has("lpips") and r.lpips_input not in (None, lpips_input)
            (line,) = ax.plot([p["bpp"] for p in pts], [p[m] for p in pts], "--" if len(pts) > 1 else "",
                              marker="s", mfc="none", ms=6, lw=1.2, color=color("ref:" + r.label, "ref"))
            entries.setdefault(f"{r.label}, {r.dataset}"
                               + (f" (LPIPS: {r.lpips_input} inputs)" if other else ""), line)
    label, _ = PANELS.get(m, (m, False))
    if m == "lpips" and lpips_input == "official":
        label = "LPIPS (AlexNet, [0, 1] inputs) ↓"
    if m == "fid" and any("patches" in how for how in _measured_ways(ds_results, "fid")):
        label += " (256 px patches)"  # one way only: mixed ways leave FID out
    ax.set_ylabel(label)
    ax.set_xlabel("bits per pixel" if rate == m else f"bits per pixel, all images (an older result lacks bpp_{m})")
    ax.grid(True, which="both", alpha=0.3)
    return entries


def _log_bpp_axis(ax: Any) -> None:
    """bpp spanning decades: log axis, plain tick labels at 1-2-5 steps."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


#: The interpolation of the BD tables ``taco plot`` writes (:data:`taco.evaluation.bdrate.METHOD_NAMES`).
BD_METHOD = "pchip"


@dataclass
class _BDTable:
    """One figure's BD table, computed before any file is written: its anchor (a curve's
    label), the rows of :func:`taco.evaluation.bdrate.bd_table`, the bootstrap's settings, and
    whether its intervals came from the images (the runs' CSVs were read)."""

    anchor: str
    table: dict[str, Any]
    bootstrap: dict[str, Any]
    from_images: bool


def _bd_table(f: _Figure, bootstrap: int, seed: int) -> _BDTable | None:
    """Every curve of ``f`` against its anchor (a label of theirs), over the images paired from
    the runs' CSVs (from the points where a curve has none), with ``bootstrap`` intervals; None without an anchor or without the eval extra. A CSV that cannot be
    read is an :class:`~taco.evaluation.runner.UnreadableResultsCSV` here, before
    :func:`plot_results` writes anything."""
    if not f.anchor:
        return None
    kept = [c for c in f.curves if c.kind != "classic-matched"]
    # the per-image rows also without intervals: the values are over the same images either way
    images = {c.label: ic for c in kept if (ic := image_curve(c)) is not None}
    try:
        table = bd_table({c.label: c.points for c in kept}, f.anchor,
                         [m for m in f.panels if m in ("psnr", "ms_ssim", "lpips", "fid")],
                         method=BD_METHOD, images=images, resamples=bootstrap, seed=seed)
    except ImportError as exc:  # the eval extra is not installed
        to_stderr(f"no BD-rate table: {exc}")
        return None
    if bootstrap > 0:
        _say_no_images(table, f.anchor, {c.label: c for c in kept if c.label not in images})
    return _BDTable(f.anchor, table, {"resamples": bootstrap, "confidence": 0.95, "seed": seed},
                    bool(images) and bootstrap > 0)


def _say_no_images(table: dict[str, Any], anchor: str, without: dict[str, Curve]) -> None:
    """Give each cell of ``table`` that has no interval for want of per-image rows (its curve's
    or the anchor's: ``without``, label -> curve) a ``ci_reason`` saying so, as one over too few
    images has: result JSONs copied without their CSVs lost their intervals unsaid. Only the
    per-image metrics have intervals (not FID), and only a defined delta."""
    for label, row in table.items():
        why = _no_images_reason(without[anchor]) if anchor in without else (
            _no_images_reason(without[label]) if label in without else None)
        if why is None:
            continue
        for m, entry in row.items():
            if m in IMAGE_METRICS and "ci_reason" not in entry and any(
                    is_number(entry.get(k)) for k in ("bd_rate", "bd_metric")):
                entry["ci_reason"] = why


def _no_images_reason(curve: Curve) -> str:
    """Why :func:`image_curve` has no rows of ``curve``: the first of its result JSONs without
    a per-image CSV beside it, or that no image has a row at every point."""
    for r in curve.sources:
        csv = result_csv(r["_path"], r) if r.get("_path") and r.get("csv") else None
        if csv is None or not csv.is_file():
            return f"no per-image CSV beside {Path(r.get('_path') or curve.label).name}"
    return f"no image has a row at every point of {curve.label}'s CSVs"


def _bd_table_files(f: _Figure, bd: _BDTable | None) -> dict[Path, bytes]:
    """``STEM.bdrate.md`` / ``.json`` of ``f``'s table, path -> bytes to be written (none: no
    file); the metrics it leaves out (metric -> why) are said under the table."""
    if bd is None:
        return {}
    anchor, left_out, boot = bd.anchor, f.left_out, bd.bootstrap
    md, json_path = f.outputs()[2:]
    # the dataset's name (a folder's), how a result measured a metric: a line each, no terminal code
    notes = "".join(f"\n{m.upper()} left out: {shown_path(why)}\n" for m, why in left_out.items())
    text = f"# BD-rate on {shown_path(f.ds)}\n\n" + format_bd_table(bd.table, anchor, bootstrap=boot, method=BD_METHOD) + notes
    extra = ({"bootstrap": {**boot, "method": "percentile bootstrap over the images, both curves "
                            "resampled together (taco.evaluation.bdrate.bd_bootstrap)"}}
             if bd.from_images else {}) | ({"left_out": left_out} if left_out else {})
    doc = {"anchor": anchor, "dataset": f.ds, "method": BD_METHOD, **extra, "table": bd.table}
    # the JSON as write_json writes it (json_text)
    return {md: text.encode("utf-8"), json_path: json_text(doc).encode("utf-8")}
