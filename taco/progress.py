"""Progress: the codec's stage callback, and the one tqdm bar taco's long loops draw.

The library only calls a :data:`Progress` callback (``compress_image(..., progress=)``,
``decompress(..., progress=)``); what is shown, and when, is the caller's choice (the command
line's: :class:`taco.cli.progress_line.StageReporter`). The loops over many images or steps
(``taco caption``, ``taco evaluate``, ``taco train``) show a :func:`progress_bar`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["Progress", "progress_bar"]

#: ``progress(stage, done, total)``: ``stage`` is a short name ("reading", "converting",
#: "analysis", "entropy coding", "entropy decoding", "synthesis"); ``done`` of ``total`` parts of
#: it are finished (the analysis stripes, the synthesis tiles, the tries of a size search). A
#: stage without parts reports ``(stage, 0, 1)`` when it starts.
Progress = Callable[[str, int, int], None]


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    desc: str,
    unit: str,
    initial: int = 0,
    position: int | None = None,
) -> Any:
    """A tqdm bar on stderr (``sys.stderr`` now, as a test or the caller has it), drawn only
    where stderr is a terminal (``disable=None``: a log file or pipe gets no bar), as wide as
    the terminal is now (``dynamic_ncols``). Over ``iterable`` when given (then ``total`` defaults
    to its length), else updated by hand. ``position``: the row of this bar among several
    processes' bars (one per rank under torchrun). Imports tqdm only when called."""
    from tqdm import tqdm

    return tqdm(iterable, total=total, initial=initial, desc=desc, unit=unit, file=sys.stderr,
                disable=None, dynamic_ncols=True, position=position)
