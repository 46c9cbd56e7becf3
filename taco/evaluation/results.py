"""The result files every evaluation run writes, whatever it codes with (a model or a classic codec).

Per run, in ``OUT/DATASET/``: ``STEM.csv`` (one row per image, written by :mod:`.runner`) and
``STEM.json``, whose header (:func:`result_header`) is written when the run starts, marked
incomplete, and completed with the summary by :func:`finish_run`. :func:`check_resume` refuses
to append to results of another configuration.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..shards import json_object
from .datasets import EvalDataset
from .measure import (
    SetMetrics,
    environment,
    metric_notes,
    original_features,
    summarize_run,
    write_json,
)
from .runner import RESUME_ADVICE, Job, ResultsFileError

RESULT_FORMAT = "taco-eval"
RESULT_VERSION = 1
#: Extra CSV columns when generated captions are compared (``--text-similarity``).
TEXT_COLUMNS = ("gen_caption_original", "gen_caption_recon")


def check_resume(json_path: Path, run: dict[str, Any]) -> None:
    """Refuse to append to results made with another model, dataset or configuration, or
    under another label (a resume under ``--label B`` would move A's points to curve B).

    ``run`` is the new header's (:func:`result_header`: it holds the label); a JSON written
    before labels were recorded in its ``run`` is compared by its top-level ``label``. A JSON
    that cannot be read as a result (not UTF-8, not a JSON object, nested too deeply, ...) is
    refused too: its configuration is unknown, and the CSV beside it may hold another's rows.
    """
    if not json_path.is_file():
        return
    try:
        data = json_object(json_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise _unreadable(json_path, "not UTF-8 text") from None
    except ValueError as exc:
        raise _unreadable(json_path, str(exc)) from None
    if not isinstance(data.get("run", {}), dict):
        raise _unreadable(json_path, "its run is not a JSON object")
    old = dict(data.get("run", {}))
    if "label" in run and "label" not in old and "label" in data:
        old["label"] = data["label"]
    if "label" in run and old.get("label") != run["label"]:
        raise ResultsFileError(
            f"{json_path} holds results labelled {old.get('label')!r}, not {run['label']!r}; "
            "resume with that --label, or choose another --output for a separate result"
        )
    diff = sorted(k for k in set(old) | set(run) if old.get(k) != run.get(k))
    if diff:
        raise ResultsFileError(
            f"{json_path} holds results of another configuration (differs in: {', '.join(diff)}); "
            + RESUME_ADVICE
        )


def _unreadable(json_path: Path, reason: str) -> ResultsFileError:
    return ResultsFileError(f"{json_path}: not a taco evaluation result ({reason}); {RESUME_ADVICE}")


def dataset_dir(out: Path, dataset: EvalDataset, lpips_input: str = "standard") -> Path:
    """``OUT/NAME`` (``OUT/NAME-cropN`` when cropped), shared by every run on the dataset.

    Runs with ``lpips_input="official"`` go to ``OUT/NAME[-cropN]-lpips-official``: their LPIPS
    values are in another convention, so they never share a folder (an RD figure, a BD-rate
    table) with standard ones.
    """
    name = dataset.name + (f"-crop{dataset.crop}" if dataset.crop else "")
    return out / (name + ("-lpips-official" if lpips_input == "official" else ""))


def result_header(
    kind: str,
    label: str,
    codec: str,
    dataset: EvalDataset,
    run: dict[str, Any],
    device: str,
    **extra: Any,
) -> dict[str, Any]:
    """The JSON of a run as it starts: what codes what, how, where (``complete``: False).

    Its ``run`` is ``run`` with the ``label``, so that :func:`check_resume` given it refuses to
    resume the results under another label.
    """
    return {
        "format": RESULT_FORMAT,
        "version": RESULT_VERSION,
        "complete": False,
        "kind": kind,
        "label": label,
        "codec": codec,
        "dataset": dataset.describe(),
        "lpips_input": run["lpips_input"],
        **extra,
        "run": {**run, "label": label},
        "metric_notes": metric_notes(run["lpips_input"]),
        "environment": environment(device),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def finish_run(
    json_path: Path,
    header: dict[str, Any],
    csv_path: Path,
    jobs: Sequence[Job],
    report: Any,
    dataset: EvalDataset,
    out_dir: Path,
    sets: SetMetrics | None,
    captioner: Any,
    features_dir: Path,
    progress: bool,
) -> Path:
    """Summarise a finished run (rank 0): points, set metrics, timings; mark the JSON complete."""
    originals = {}
    if sets is not None and sets.feature_names:
        originals = original_features(sets, dataset, out_dir / "originals.features", progress=progress)
    points = summarize_run(csv_path, jobs, sets=sets, originals=originals,
                           features_dir=features_dir, text=captioner is not None)
    samples = points[0].get("fid_samples") if points else None
    coded = sum(p["images"] for p in points)
    header.update(
        complete=coded == len(jobs),
        jobs_missing=len(jobs) - coded,
        points=points,
        set_metrics=(sets.describe(samples) if sets is not None else {}),
        text_similarity=(
            {"captioner": captioner.name, "metrics": "BLEU-4, CIDEr-D (pycocoevalcap), captions of "
             "original vs reconstruction"} if captioner is not None else {"computed": False}
        ),
        timing={"images_timed": report.coded, **report.timing_summary(),
                "note": "wall clock of the images coded in the latest session only"},
        skipped_images=report.skipped,
        features=features_dir.name if features_dir.is_dir() else None,
    )
    return write_json(json_path, header)
