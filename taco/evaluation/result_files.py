"""Reading the result files of ``taco evaluate``, without torch.

Per run, in ``OUT/DATASET/``: ``STEM.csv`` (one row per image) and ``STEM.json``, the summary
(:mod:`taco.evaluation.results` writes both). :func:`read_result` is the one way to read a
summary JSON back (its format, version and the types of the fields taco reads checked),
:func:`result_rows` the rows of its CSV (JSON is written by :func:`taco.jsonfiles.write_json`).
``taco plot`` and ``scripts/check_targets.py`` only read results, so this module imports taco's
base modules only: no torch, no numpy, no datasets, no metrics.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..checks import is_int, is_number
from ..jsonfiles import format_problem, is_file_name, read_json_object
from ..messages import lone_surrogate
from ..recipe import IMAGE_METRICS
from .bdrate import METRIC_ORDER
from .runner import ResultsFileError, read_rows

__all__ = [
    "IMAGE_CONTENT_MARK",
    "IMAGE_METRICS",
    "POINT_NUMBERS",
    "RESULT_FORMAT",
    "RESULT_MAX_BYTES",
    "RESULT_VERSION",
    "TEXT_COLUMNS",
    "RECORDED_LATER",
    "MalformedResult",
    "UnsupportedResultVersion",
    "read_result",
    "result_csv",
    "result_problem",
    "dataset_slug",
    "result_rows",
]

#: What begins a result's ``dataset.image_content`` (:attr:`~taco.evaluation.datasets.EvalDataset.image_content`)
#: and ``run.dataset.content`` (:attr:`~taco.evaluation.datasets.EvalDataset.content`) that hold
#: each image's modification time; one without it (written before) holds names and sizes. (A
#: ``run.dataset.content`` of the taco between the two, whose ``dataset.image_content`` is
#: marked, held the times unmarked.) Here, not in taco.evaluation.datasets, so that ``taco plot``
#: reads it without importing the datasets.
IMAGE_CONTENT_MARK = "t-"

#: Keys of a run's ``run`` block that results written before they were recorded lack (a model
#: run's device kind and taco version): such results still resume, and still plot as one run
#: with a newer copy of themselves.
RECORDED_LATER = frozenset({"device", "taco_version"})

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


class MalformedResult(ResultsFileError):
    """A summary JSON of the ``taco-eval`` format and version whose fields are not what taco
    writes (a ``dataset`` that is no object, a ``label`` that is a list, a ``bpp`` of NaN, ...)."""


#: The values of a result's points that are numbers: finite (taco writes NaN and infinities as
#: null), or null where not measured; ``bpp`` and ``bpp_<metric>`` (the mean bpp of the images a
#: metric's mean is over, where fewer than all) are also above 0 (a coded file has bytes).
POINT_NUMBERS = ("bpp", *METRIC_ORDER, *(f"bpp_{m}" for m in IMAGE_METRICS))


def read_result(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The summary JSON at ``path`` (``format: taco-eval``, ``version:`` :data:`RESULT_VERSION`).

    A file that is not one is a :class:`ResultsFileError` of one line naming it and saying why:
    over :data:`RESULT_MAX_BYTES`, not UTF-8, not JSON (or nested too deeply, ...), not a JSON
    object, of another ``format``; of another ``version`` an :class:`UnsupportedResultVersion`;
    with a field taco reads of the wrong type (:func:`result_problem`) a :class:`MalformedResult`.
    An ``OSError`` reading it is raised as is.
    """
    path = Path(path)
    try:
        result = read_json_object(path, RESULT_MAX_BYTES)
    except ValueError as exc:  # an OSError is raised as is
        raise _not_a_result(path, str(exc)) from None
    problem = format_problem(result, RESULT_FORMAT, RESULT_VERSION, "taco evaluation result")
    if problem and result.get("format") == RESULT_FORMAT:
        raise UnsupportedResultVersion(f"{path}: {problem}")
    if problem:
        raise _not_a_result(path, f"its format is {result.get('format')!r:.40}, not {RESULT_FORMAT!r}")
    if problem := result_problem(result):
        raise MalformedResult(f"{path}: not a taco evaluation result ({problem})")
    return result


def result_problem(result: dict[str, Any]) -> str | None:
    """What is wrong with the fields of the summary JSON ``result`` that taco reads (None:
    nothing): ``label`` (not empty) and ``kind`` strings (``codec`` too, where present), ``dataset`` an object
    with a string ``name`` (its ``kind`` and ``crop`` strings, its ``images`` a count, its
    ``paper_set`` true or false, where present); ``run``, ``model``
    (or null), ``set_metrics`` (and its ``fid``) and ``bpp_gap`` objects where present; ``points`` a list of objects whose
    :data:`POINT_NUMBERS` are finite numbers or null (``bpp`` and ``bpp_<metric>`` above 0: every
    file taco or a codec writes has bytes); no text that is not UTF-8 (a ``\\udc80`` escape, a lone
    surrogate: matplotlib cannot draw it nor a UTF-8 file hold it). A ``label`` (or
    ``matched_to_label``) may hold any other character, as results of every taco version are
    read alike: one holding a tab, a line break or an ESC (written by a taco that took such a
    ``--label``; taco refuses one now, :func:`taco.messages.unprintable`) is shown escaped
    in the lines and tables that show it (``\\t``, :func:`taco.messages.shown_path`: the summary
    lines, the BD table), and an RLM or zero-width space in an Arabic or Thai label is text like
    any other. The header of a run that has just started (no ``points``
    yet) passes."""
    bad = _not_utf8(result)
    if bad:
        return bad
    for key in ("run", "set_metrics", "bpp_gap", "model"):
        if key in result and not isinstance(result[key], dict) and not (key == "model" and result[key] is None):
            return f"its {key} is not a JSON object"
    for key in ("label", "kind"):
        if not isinstance(result.get(key), str):
            return f"its {key} is not a string" if key in result else f"it has no {key}"
    if not result["label"]:  # taco labels a run with its model id or codec where --label is ""
        return "its label is empty"
    if "codec" in result and not isinstance(result["codec"], str):
        return "its codec is not a string"
    for key in ("lpips_input", "matched_to", "matched_to_label"):
        if result.get(key) is not None and not isinstance(result[key], str):
            return f"its {key} is not a string"
    if not isinstance(result.get("set_metrics", {}).get("fid", {}), dict):
        return "its set_metrics' fid is not a JSON object"
    model = result.get("model") or {}
    for key in ("config", "metadata"):
        if model.get(key) is not None and not isinstance(model[key], dict):
            return f"its model's {key} is not a JSON object"
    if "mean_abs" in result.get("bpp_gap", {}) and not _number_or_null(result["bpp_gap"]["mean_abs"]):
        return "its bpp_gap's mean_abs is not a finite number"
    dataset = result.get("dataset")
    if not isinstance(dataset, dict) or not isinstance(dataset.get("name"), str):
        return "its dataset is not a JSON object with a name" if "dataset" in result else "it has no dataset"
    for key in ("kind", "crop"):
        if key in dataset and not isinstance(dataset[key], str):
            return f"its dataset's {key} is not a string"
    if "images" in dataset and not is_int(dataset["images"], 0):
        return "its dataset's images is not a count"
    if "paper_set" in dataset and not isinstance(dataset["paper_set"], bool):
        return "its dataset's paper_set is not true or false"
    points = result.get("points", [])
    if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
        return "its points are not a list of JSON objects"
    for i, point in enumerate(points):
        for key in POINT_NUMBERS:
            value = point.get(key)
            # a bpp of 0 cannot be: a coded file has bytes (nor be drawn on taco plot's log axis)
            rate = key.startswith("bpp")
            if not _number_or_null(value) or (rate and value is not None and value <= 0):
                wanted = "a finite number above 0" if rate else "a finite number"
                return f"point {i + 1} has a {key} of {value!r:.40}, not {wanted} or null"
    return None


def _not_utf8(data: Any) -> str | None:
    """Where JSON ``data`` holds a key or string that is not UTF-8 text (:func:`lone_surrogate`),
    the first in the file's order. A walk with a stack of its own, not a call per level: JSON
    nested as deeply as ``json.loads`` reads it is no RecursionError here (where it failed at
    half that depth, a traceback out of ``taco plot``)."""
    path: list[str] = []  # the parts of the path to the list or object walked now
    stack: list[Iterator[tuple[str | None, Any]]] = [iter((("", data),))]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            if stack:  # not the start: the list or object walked leaves the path
                path.pop()
            continue
        part, value = item
        if part is None:  # before the value of a key that is not UTF-8 text: what is wrong
            return f"a key of its {_where(path) or 'top level'} has {value}"
        if isinstance(value, str):
            bad = lone_surrogate(value)
            if bad:
                return f"its {_where([*path, part])} has {bad}"
        elif isinstance(value, (list, dict)):
            path.append(part)
            stack.append(_parts(value))
    return None


def _where(path: list[str]) -> str:
    """The path to a value (``points[0].setting``) from its parts, its middle cut where long."""
    where = "".join(path).lstrip(".")
    return where if len(where) <= 80 else f"{where[:40]}...{where[-37:]}"


def _parts(data: list[Any] | dict[str, Any]) -> Iterator[tuple[str | None, Any]]:
    """The values of the JSON list or object ``data`` with the part of a path that names them
    (``[i]``, ``.key``), for :func:`_not_utf8`; before the value of a key that is not UTF-8
    text, ``(None, what is wrong with the key)``."""
    if isinstance(data, list):
        yield from ((f"[{i}]", value) for i, value in enumerate(data))
        return
    for key, value in data.items():
        bad = lone_surrogate(key)
        if bad:
            yield None, bad
        yield f".{key}", value


def _number_or_null(value: object) -> bool:
    return value is None or is_number(value)


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


def dataset_slug(text: str) -> str:
    """The name ``text`` (a dataset folder's name) gives a dataset in file names: its results
    folder ``OUT/DATASET/`` and ``taco plot``'s ``rd-DATASET.png``: letters, digits, ``.``,
    ``_`` and ``-`` kept, every other run of characters one ``-`` (``set.v2`` and ``set_v2``
    stay two)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "dataset"
