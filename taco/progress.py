"""Progress: the codec's stage callback, and the one tqdm bar taco's long loops draw.

The library only calls a :data:`Progress` callback (``compress_image(..., progress=)``,
``decompress(..., progress=)``); what is shown, and when, is the caller's choice (the command
line's: :class:`taco.cli.progress_line.StageReporter`). The loops over many images or steps
(``taco caption``, ``taco evaluate``, ``taco train``, and their library functions with
``progress=True``) show a :func:`progress_bar`: on a terminal, or in a Jupyter notebook.
"""

from __future__ import annotations

import importlib
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
    where stderr is a terminal (``disable=None``: a log file or pipe gets no bar) or in a
    Jupyter kernel (``ipykernel`` imported, stderr no terminal: there tqdm.auto's notebook
    widget where ipywidgets imports, else a text bar on the cell's stderr), as wide as the
    terminal is now (``dynamic_ncols``). Over ``iterable`` when given (then ``total`` defaults
    to its length), else updated by hand. ``position``: the row of this bar among several
    processes' bars (one per rank under torchrun). No stderr (``sys.stderr`` None:
    ``pythonw``, a windowed app, ``2>&-``) gets no bar. Imports tqdm only when called."""
    bar_class: Any
    disable: bool | None
    if sys.stderr is None:  # tqdm would write to None
        from tqdm import tqdm

        bar_class, disable = tqdm, True
    elif _in_notebook():
        bar_class, disable = _notebook_bar_class(), False
    else:
        from tqdm import tqdm

        bar_class, disable = tqdm, None
    return bar_class(iterable, total=total, initial=initial, desc=desc, unit=unit,
                     file=sys.stderr, disable=disable, dynamic_ncols=True, position=position)


def _in_notebook() -> bool:
    """Whether this is a Jupyter kernel's process (``ipykernel`` imported) whose stderr is no
    terminal: the cell shows what is written there, though tqdm's ``disable=None`` took it for
    a log file and drew nothing (``evaluate_model(..., progress=True)`` showed no bar)."""
    if "ipykernel" not in sys.modules:
        return False
    isatty = getattr(sys.stderr, "isatty", None)
    return not (isatty is not None and isatty())


def _notebook_bar_class() -> Any:
    """tqdm.auto's bar (a widget in a notebook) where ipywidgets imports; without it tqdm.auto
    only warns that it is missing, and a plain text bar is drawn instead."""
    try:
        importlib.import_module("ipywidgets")
    except Exception:  # missing, or broken (a version clash): a text bar
        from tqdm import tqdm

        return tqdm
    from tqdm.auto import tqdm as auto_tqdm

    return auto_tqdm
