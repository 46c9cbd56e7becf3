"""JSON that someone else wrote: one bounded reader for a JSON file, and the checks on what it holds.

    index = read_json_object(path, INDEX_MAX_BYTES)        # a ValueError saying why, else a dict
    problem = format_problem(index, "taco-shards", 1, "taco shard index")

:func:`read_json` / :func:`read_json_object` are the one way taco reads a JSON file a user hands
it (a shard index, a COCO annotations file, a caption JSON, an evaluation result, a text
encoder's config.json): the file is read whole only when it is within the caller's bound
(parsing JSON takes up to some 30 times a file's size, see taco.shards.INDEX_MAX_BYTES), then
decoded as strict UTF-8 and parsed by :func:`load_json`. Every refusal is a ValueError whose text
says why in a few words without the file's name, for the caller to put into its own error class
naming the file (ShardedFileError, AnnotationsFileError, CaptionImportError, ...).
:func:`load_json` and :func:`json_object` are the same checks for JSON text from inside a file
(a captions.jsonl line, a safetensors metadata value). Imports nothing but the standard library
and taco's base modules.

:func:`write_json` is the one way taco writes a JSON file (evaluation results, benchmarks), and
:func:`jsonable` what it and the training log write through: strict JSON, NaN as null.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path, PureWindowsPath
from typing import Any

from .atomic import write_text_atomic
from .checks import is_int
from .errors import TacoError
from .fileobjects import read_file_within

__all__ = [
    "UTF16_TEXT",
    "JSONFileTooLarge",
    "format_problem",
    "is_file_name",
    "json_object",
    "json_text",
    "jsonable",
    "load_json",
    "read_json",
    "read_json_object",
    "utf16_start",
    "write_json",
]


class JSONFileTooLarge(TacoError, ValueError):
    """A JSON file over the bound it is read within, refused before it is read: ``size`` and
    ``limit`` in bytes; its text is "SIZE bytes, over the LIMIT taco reads"."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size:,} bytes, over the {limit:,} taco reads")
        self.size = size
        self.limit = limit

    def __reduce__(self) -> tuple[type[JSONFileTooLarge], tuple[int, int]]:
        return type(self), (self.size, self.limit)


#: What taco says of a file that starts with a UTF-16 byte-order mark (FF FE or FE FF) where
#: UTF-8 text is read: PowerShell 5's ``>`` writes UTF-16 LE (see :func:`utf16_start`).
UTF16_TEXT = "UTF-16 text (not UTF-8): save it as UTF-8"


def utf16_start(data: bytes) -> bool:
    """Whether ``data``, the start of a file, is a UTF-16 byte-order mark's (FF FE, FE FF; neither
    starts UTF-8 text): the file is then said to be :data:`UTF16_TEXT`, not "not UTF-8 text"."""
    return data[:2] in (b"\xff\xfe", b"\xfe\xff")


def read_json(path: str | os.PathLike[str], limit: int,
              object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None) -> Any:
    """The JSON value in the file at ``path``, read whole only when it has at most ``limit``
    bytes (:func:`taco.fileobjects.read_file_within`), as UTF-8 (a byte-order mark at its start
    taken, as RFC 8259 allows: an editor on Windows writes one; anywhere else it is bad JSON);
    ``object_pairs_hook`` as :func:`json.loads` takes it (e.g. to keep a repeated key's values).

    An ``OSError`` opening or reading it (a missing file, a folder) is raised as is. A file that
    is not JSON taco reads is a ValueError saying why in a few words, without the file's name:
    :class:`JSONFileTooLarge` (left unread), "not UTF-8 text" (:data:`UTF16_TEXT` where it
    starts with a UTF-16 byte-order mark), or :func:`load_json`'s reasons
    (a ``json.JSONDecodeError`` for bad JSON, as is).
    """
    data, size = read_file_within(path, limit)
    if size > limit:
        raise JSONFileTooLarge(size, limit)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(UTF16_TEXT if utf16_start(data) else "not UTF-8 text") from None
    return load_json(text, object_pairs_hook)


def read_json_object(path: str | os.PathLike[str], limit: int) -> dict[str, Any]:
    """The JSON object in the file at ``path``: :func:`read_json`, and a ValueError "not a JSON
    object" for any other value."""
    return _object(read_json(path, limit))


def load_json(text: str | bytes,
              object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None) -> Any:
    """``json.loads`` (with ``object_pairs_hook``) for text from a file, every refusal a
    ValueError saying in a few words what was wrong: besides bad JSON (``JSONDecodeError``, as
    is), a number of over 4,300 digits (a ValueError) and arrays or objects nested some thousand
    deep (a RecursionError), whose own texts tell a user to change Python."""
    try:
        return json.loads(text, object_pairs_hook=object_pairs_hook)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:
        raise ValueError("a number with too many digits" if "digits" in str(exc) else str(exc)) from None


def json_object(text: str | bytes) -> dict[str, Any]:
    """The JSON object ``text`` holds (a safetensors metadata value), or a ValueError saying in
    a few words what was wrong: :func:`load_json`'s reasons, or "not a JSON object". Callers put
    it into their own error with the file's name."""
    return _object(load_json(text))


def _object(document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    return document


def format_problem(document: dict[str, Any], fmt: str, version: int, what: str) -> str | None:
    """Why this taco cannot read ``document`` as version ``version`` of the format ``fmt``
    (None: it can): "not a WHAT" when its ``"format"`` is another, else "WHAT version V is not
    supported (this taco reads version N)" when its ``"version"`` is not that integer."""
    if document.get("format") != fmt:
        return f"not a {what}"
    found = document.get("version")
    if not is_int(found) or found != version:
        return f"{what} version {found!r:.40} is not supported (this taco reads version {version})"
    return None


def is_file_name(name: object, windows: bool = os.name == "nt") -> bool:
    """Whether a JSON file may name ``name`` as a file beside it (a shard in an index, the CSV of
    an evaluation result): a file in the JSON file's own folder, given without any path (no
    ``/``, ``\\``, ``..``, NUL) and, on Windows (``windows``, default: this system), without a
    drive (``C:x``, which Windows opens in drive C's current folder). Elsewhere a colon is a
    file name's like any: taco names a checkpoint's shards after its file (``b:32.safetensors``
    on Linux)."""
    return (isinstance(name, str) and name not in ("", ".", "..")
            and not any(c in name for c in "/\\\0") and not (windows and PureWindowsPath(name).drive))


def jsonable(obj: Any) -> Any:
    """``obj`` as strict JSON can hold it: NaN and infinities -> None, numpy scalars -> Python
    numbers, tuples -> lists, paths -> strings, dict keys -> strings."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    numpy = sys.modules.get("numpy")  # a numpy scalar exists only once numpy is imported
    if numpy is not None and isinstance(obj, numpy.generic):
        return jsonable(obj.item())
    if isinstance(obj, Path):
        return str(obj)
    return obj


def json_text(obj: Any) -> str:
    """``obj`` as the indented JSON text :func:`write_json` writes; NaN and infinities -> null."""
    return json.dumps(jsonable(obj), indent=2, allow_nan=False) + "\n"


def write_json(path: str | os.PathLike[str], obj: Any, *, replace: bool = True) -> Path:
    """Write ``obj`` as indented JSON, atomically; NaN and infinities become null.
    ``replace=False``: only if ``path`` does not exist when it is published, else
    :class:`FileExistsError` naming it (:func:`taco.atomic.write_text_atomic`)."""
    return write_text_atomic(path, json_text(obj), replace=replace)
