"""The captions file, ``captions.jsonl``: one JSON object per line naming an image and its captions.

``{"image": "name.png", "captions": ["...", ...]}`` (or ``"caption": "..."``) per line, ``image``
relative to the folder the file describes, optionally with ``"captioner": "..."`` (who wrote the
captions). Training, evaluation, ``taco caption`` and ``taco compress`` all read it with
:func:`read_caption_records` (or :func:`read_captions_file`, which keeps the captioners too).
Imports no torch (the CLI reads captions before it loads a model).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NamedTuple

__all__ = ["CaptionRecord", "CaptionsFile", "CaptionsFileError", "read_caption_records", "read_captions_file"]


class CaptionsFileError(ValueError):
    """A captions file (``captions.jsonl``) with a malformed line; the message names the line."""


class CaptionRecord(NamedTuple):
    """An image file (relative to a dataset root) and all of its captions."""

    file: str
    captions: tuple[str, ...]


class CaptionsFile(NamedTuple):
    """A parsed captions file: its records and the captioners its lines name."""

    records: list[CaptionRecord]
    #: the ``"captioner"`` of its lines (written by ``taco caption`` and ``taco
    #: import-captions``), each once, in file order; lines without one add none
    captioners: tuple[str, ...]


def read_captions_file(path: str | os.PathLike[str]) -> CaptionsFile:
    """A ``captions.jsonl`` file -> its :class:`CaptionRecord` s (one per image, in file order)
    and the captioners its lines name.

    Each line: ``{"image": NAME, "captions": [...]}`` (or ``"caption": TEXT``), optionally with
    ``"captioner": NAME``; repeated lines for one image merge their captions; blank captions are
    dropped (an image whose captions are all blank keeps a record without captions).
    :class:`CaptionsFileError` (a ``ValueError``) names the line of a malformed entry, or says
    the file is not UTF-8 text; a file that cannot be opened raises the ``OSError``.
    """
    path = Path(path)
    captions: dict[str, list[str]] = {}  # insertion order = file order; repeated lines merge
    captioners: dict[str, None] = {}
    with path.open(encoding="utf-8") as f:
        try:
            lines = list(f)
        except UnicodeDecodeError:
            raise CaptionsFileError(f"{path}: not UTF-8 text") from None
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            image = entry["image"]
            caps = entry.get("captions", entry.get("caption", []))
            captioner = entry.get("captioner")
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as e:
            raise CaptionsFileError(
                f'{path}:{line_no}: expected {{"image": ..., "captions": [...]}} ({e})'
            ) from e
        if isinstance(caps, str):
            caps = [caps]
        if not isinstance(image, str) or not isinstance(caps, list) or not all(isinstance(c, str) for c in caps):
            raise CaptionsFileError(f"{path}:{line_no}: image must be a string, captions strings")
        captions.setdefault(image, []).extend(c for c in caps if c.strip())
        if isinstance(captioner, str) and captioner:
            captioners[captioner] = None
    records = [CaptionRecord(file, tuple(caps)) for file, caps in captions.items()]
    return CaptionsFile(records, tuple(captioners))


def read_caption_records(path: str | os.PathLike[str]) -> list[CaptionRecord]:
    """The records of a ``captions.jsonl`` file, one per image, in file order (see
    :func:`read_captions_file`, which also gives the captioners the file names)."""
    return read_captions_file(path).records
