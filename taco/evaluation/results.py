"""The result files every evaluation run writes, whatever it codes with (a model or a classic codec).

Per run, in ``OUT/DATASET/``: ``STEM.csv`` (one row per image, written by :mod:`.runner`) and
``STEM.json``, whose header (:func:`result_header`) is written when the run starts, marked
incomplete, and completed with the summary by :func:`finish_run`. :func:`check_resume` refuses
to append to results of another configuration. :func:`read_result` is the one way to read a
summary JSON back (its format and version checked), :func:`result_rows` the rows of its CSV.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..shards import format_problem, is_file_name, json_object
from .datasets import EvalDataset
from .measure import (
    SetMetrics,
    environment,
    metric_notes,
    original_features,
    summarize_run,
    write_json,
)
from .runner import RESUME_ADVICE, Job, ResultsFileError, read_rows

RESULT_FORMAT = "taco-eval"
RESULT_VERSION = 1
#: The largest summary JSON taco reads, in bytes. A real one is a few kB (its ``skipped_images``
#: list may add some MB on a large set); parsing JSON takes up to some 30 times its size (see
#: taco.shards.INDEX_MAX_BYTES), so a larger file is refused before it is read.
RESULT_MAX_BYTES = 64 * 2**20
#: Extra CSV columns when generated captions are compared (``--text-similarity``).
TEXT_COLUMNS = ("gen_caption_original", "gen_caption_recon")


class UnsupportedResultVersion(ResultsFileError):
    """A summary JSON of the ``taco-eval`` format in a version this taco does not read."""


def read_result(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The summary JSON at ``path`` (``format: taco-eval``, ``version:`` :data:`RESULT_VERSION`).

    A file that is not one is a :class:`ResultsFileError` of one line naming it and saying why:
    over :data:`RESULT_MAX_BYTES`, not UTF-8, not JSON (or nested too deeply, ...), not a JSON
    object, of another ``format``; of another ``version`` an :class:`UnsupportedResultVersion`.
    An ``OSError`` reading it is raised as is.
    """
    path = Path(path)
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        data = f.read(RESULT_MAX_BYTES + 1) if size <= RESULT_MAX_BYTES else b""
    size = max(size, len(data))  # a file that grew since its stat
    if size > RESULT_MAX_BYTES:
        raise _not_a_result(path, f"{size:,} bytes, over the {RESULT_MAX_BYTES:,} taco reads")
    try:
        result = json_object(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise _not_a_result(path, "not UTF-8 text") from None
    except ValueError as exc:
        raise _not_a_result(path, str(exc)) from None
    problem = format_problem(result, RESULT_FORMAT, RESULT_VERSION, "taco evaluation result")
    if problem and result.get("format") == RESULT_FORMAT:
        raise UnsupportedResultVersion(f"{path}: {problem}")
    if problem:
        raise _not_a_result(path, f"its format is {result.get('format')!r:.40}, not {RESULT_FORMAT!r}")
    return result


def result_csv(path: str | os.PathLike[str], result: dict[str, Any]) -> Path:
    """The per-image CSV that the summary JSON ``result`` read from ``path`` names (its ``csv``,
    a file beside it); a :class:`ResultsFileError` when that is not a plain file name."""
    name = result.get("csv")
    if not is_file_name(name):
        raise _not_a_result(Path(path), f"its csv {name!r:.40} is not a file name")
    return Path(path).with_name(str(name))


def result_rows(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """The complete rows of the CSV beside the summary JSON at ``path`` (see :func:`read_result`,
    :func:`result_csv`); none when that CSV does not exist."""
    return read_rows(result_csv(path, read_result(path)))


def _not_a_result(path: Path, reason: str) -> ResultsFileError:
    return ResultsFileError(f"{path}: not a taco evaluation result ({reason})")


def check_resume(json_path: Path, run: dict[str, Any]) -> None:
    """Refuse to append to results made with another model, dataset or configuration, or
    under another label (a resume under ``--label B`` would move A's points to curve B).

    ``run`` is the new header's (:func:`result_header`: it holds the label); a JSON written
    before labels were recorded in its ``run`` is compared by its top-level ``label``. A JSON
    that cannot be read as a result (:func:`read_result`: not UTF-8, not a JSON object, another
    format or version, ...) is refused too: its configuration is unknown, and the CSV beside it
    may hold another's rows.
    """
    if not json_path.is_file():
        return
    try:
        data = read_result(json_path)
    except ResultsFileError as exc:
        raise ResultsFileError(f"{exc}; {RESUME_ADVICE}") from None
    if not isinstance(data.get("run", {}), dict):
        raise ResultsFileError(f"{json_path}: not a taco evaluation result (its run is not a JSON "
                               f"object); {RESUME_ADVICE}")
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
