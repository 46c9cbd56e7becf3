"""The sample photos the package ships: where they are, which they are, and their captions.

Four public-domain photos in ``taco/assets/samples`` (provenance and licences in its
``SOURCES.md``), each captioned in its ``captions.jsonl``, which lists them. ``taco demo``
codes one, ``taco bench`` times them, ``taco evaluate samples`` evaluates them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .captions_file import read_caption_records

__all__ = ["SAMPLES_DIR", "sample_caption", "sample_names"]

#: The folder of the sample photos, wherever taco is installed (a checkout's ``taco/assets/samples``).
SAMPLES_DIR = Path(str(resources.files("taco") / "assets" / "samples"))


def sample_names() -> tuple[str, ...]:
    """The sample photos' file names, in the order their ``captions.jsonl`` lists them."""
    return tuple(record.file for record in read_caption_records(SAMPLES_DIR / "captions.jsonl"))


def sample_caption(name: str) -> str:
    """The first caption of the sample photo ``name`` (a KeyError for another name)."""
    for record in read_caption_records(SAMPLES_DIR / "captions.jsonl"):
        if record.file == name and record.captions:
            return record.captions[0]
    raise KeyError(name)
