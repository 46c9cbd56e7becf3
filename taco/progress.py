"""Progress: the codec's stage callback, and the one tqdm bar taco's long loops draw.

The library only calls a :data:`Progress` callback (``compress_image(..., progress=)``,
``decompress(..., progress=)``); what is shown, and when, is the caller's choice (the command
line's: :class:`taco.cli.progress_line.StageReporter`). The loops over many images or steps
(``taco caption``, ``taco evaluate``, ``taco train``, and their library functions with
``progress=True``) show a :func:`progress_bar`: on a terminal, or in a Jupyter notebook (off
them, a line now and then where the caller asks: ``lines_every``): :func:`draws_bar` says
whether it would draw one now, :func:`bar_shown` whether one is on the line now
(:func:`taco.messages.to_stderr` writes above it).
:func:`terminal_columns` is the width both these bars and the command line's in-place stage
line are drawn in.
"""

from __future__ import annotations

import importlib
import math
import os
import sys
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sized
from time import monotonic
from typing import Any, TextIO

__all__ = ["LINES_EVERY", "Progress", "bar_shown", "clock", "draws_bar", "progress_bar", "terminal_columns"]

#: How often, in seconds, the loops of ``taco evaluate`` and ``taco caption`` say how far they
#: are where no bar is drawn (``progress_bar(..., lines_every=LINES_EVERY)``): a log file got
#: nothing between the start-up notes and the summary (1,000 images: some 7 minutes).
LINES_EVERY = 60.0

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
    lines_every: float | None = None,
) -> Any:
    """A tqdm bar on stderr (``sys.stderr`` now, as a test or the caller has it), drawn only
    where stderr is a terminal that takes the bar's redraws (a log file or pipe gets no bar, nor
    does a terminal with ``TERM=dumb``, an editor's compile buffer, where each ``\\r`` showed as
    ``^M``) or in a Jupyter kernel (``ipykernel`` imported, stderr no terminal: there tqdm.auto's
    notebook widget where ipywidgets imports, else a text bar on the cell's stderr). On a
    terminal the bar is as wide as :func:`terminal_columns` is at each redraw, one column short
    (a line filling the last column wraps on some terminals): the terminal's width, or where it
    reports none (``stty cols 0``, ``docker exec -t`` before its size is set), where tqdm's own
    measure drew no bar, ``COLUMNS`` or 80. Over ``iterable`` when given (then ``total`` defaults to its length),
    else updated by hand. ``position``: the row of this bar among several processes' bars (one
    per rank under torchrun). No stderr (``sys.stderr`` None: ``pythonw``, a windowed app,
    ``2>&-``) gets no bar. Where no bar is drawn this gives a counter with the bar's interface
    (``disable`` True; iterating, ``update``, ``set_postfix_str``, ``close``) and builds no
    tqdm: tqdm's first bar, even a disabled one, creates its multiprocessing lock, which fixes
    the host program's start method (a later ``multiprocessing.set_start_method("spawn")``
    raised "context has already been set"). Imports tqdm only when it draws.

    ``lines_every`` (seconds; None: never): where no bar is drawn, that counter says how far it
    is in a line on stderr once that long has passed since the start or its last line, when it
    counts on: ``DESC: 11/20 img, 1:02 elapsed, ~0:57 left`` (the estimate from this run's
    pace, once it has counted one; no total: the count and the time alone). A log file or pipe
    then shows the run going; a stderr gone (its reader gone, a full disk) gets no more lines
    and does not stop the loop; no last line is said (the caller's summary follows); control
    characters of ``desc`` are shown as ``?``. :data:`LINES_EVERY` is the loops' choice; the
    clock is :func:`time.monotonic`, read as this module's ``monotonic`` (a test puts its own
    there)."""
    if not draws_bar():
        return _Counter(iterable, total=total, initial=initial, desc=desc, unit=unit,
                        lines_every=lines_every)
    if _in_notebook():
        bar = _notebook_bar_class()(iterable, total=total, initial=initial, desc=desc, unit=unit,
                                    file=sys.stderr, disable=False, dynamic_ncols=True,
                                    position=position)
    else:
        from tqdm import tqdm

        columns, rows = _bar_shape(sys.stderr)
        bar = tqdm(iterable, total=total, initial=initial, desc=desc, unit=unit, file=sys.stderr,
                   disable=False, ncols=columns, nrows=rows, position=position)
        # measured again at each redraw, as tqdm's dynamic_ncols=True does with its own measure
        # (a callable there is what tqdm keeps for it), which takes a 0-column terminal at its word
        bar.dynamic_ncols = _bar_shape
    with _SHOWN_LOCK:
        _SHOWN.add(bar)
    return bar


def draws_bar() -> bool:
    """Whether :func:`progress_bar` draws a bar now: stderr is a terminal that takes its redraws
    (not ``TERM=dumb``) or a Jupyter kernel's cell. Where it does not (a log file or pipe,
    ``nohup``, a slurm job, a dumb terminal), a long loop is seen only through the lines it says
    (``lines_every``, ``taco evaluate``'s line per finished run); no stderr, or a closed one,
    draws none either. Imports nothing."""
    return _in_notebook() or _on_terminal()


#: The bars :func:`progress_bar` drew that are still there (a bar closed, or done, is
#: ``disable``\ d by tqdm; one no longer referenced goes).
_SHOWN: weakref.WeakSet[Any] = weakref.WeakSet()
_SHOWN_LOCK = threading.Lock()


def bar_shown() -> bool:
    """Whether a progress bar is on stderr now: one of :func:`progress_bar`'s (drawn, not yet
    closed), or another tqdm bar of the program taco is in (tqdm's own list of its bars, private:
    read where it is there). A line then goes above it through ``tqdm.write``
    (:func:`taco.messages.to_stderr`), else straight to the stream: ``tqdm.write`` creates tqdm's
    multiprocessing lock where no bar has, which fixes the program's start method. Imports
    nothing."""
    with _SHOWN_LOCK:
        if any(not bar.disable for bar in _SHOWN):
            return True
    tqdm = sys.modules.get("tqdm")
    return tqdm is not None and len(getattr(tqdm.tqdm, "_instances", ())) > 0


class _Counter:
    """What :func:`progress_bar` gives where it draws nothing: the part of a tqdm bar taco's
    loops use, drawing nothing and building no tqdm (see there); with ``lines_every``, a line
    now and then saying how far it is."""

    disable = True

    def __init__(self, iterable: Iterable[Any] | None, *, total: int | None, initial: int,
                 desc: str = "", unit: str = "it", lines_every: float | None = None) -> None:
        self.iterable = iterable
        if total is None and isinstance(iterable, Sized):
            total = len(iterable)
        self.total = total
        self.n: float = initial
        self.initial, self.desc, self.unit, self.lines_every = initial, desc, unit, lines_every
        self.start = self.said = monotonic() if lines_every is not None else 0.0

    def __iter__(self) -> Iterator[Any]:
        if self.iterable is None:
            raise TypeError("a progress counter without an iterable is updated by hand")
        if self.lines_every is None:
            return iter(self.iterable)
        return self._counted(self.iterable)

    def _counted(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """``iterable``'s items, each counted once the loop's body is done with it (as tqdm
        counts: when the next is asked for)."""
        for item in iterable:
            yield item
            self.update(1)

    def __len__(self) -> int:
        return self.total or 0

    def __enter__(self) -> _Counter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: float = 1) -> None:
        self.n += n
        if self.lines_every is None:
            return
        now = monotonic()
        if now - self.said >= self.lines_every:
            self.said = now
            self._say(self.line(now - self.start))

    def _say(self, text: str) -> None:
        """``text`` as a line on stderr, flushed (here, not by :func:`taco.messages.to_stderr`,
        which imports this module; as there, a stderr that is gone does not stop the loop: a
        reader gone, a full disk or a closed stream ends the lines)."""
        stream = sys.stderr
        if stream is None:
            return
        try:
            stream.write(text + "\n")
            stream.flush()
        except (OSError, ValueError):
            self.lines_every = None

    def line(self, elapsed: float) -> str:
        """How far it is after ``elapsed`` seconds: ``DESC: 11/20 img, 1:02 elapsed, ~0:57
        left``."""
        done = f"{self.n:,.0f}" if float(self.n).is_integer() else f"{self.n:,.1f}"
        desc = "".join(c if c.isprintable() else "?" for c in self.desc)  # a line of a log file
        text = f"{desc}: {done}" + (f"/{self.total:,}" if self.total is not None else "")
        text += f" {self.unit}, {clock(elapsed)} elapsed"
        counted = self.n - self.initial
        if self.total is not None and counted > 0 and elapsed > 0:
            text += f", ~{clock(max(0.0, self.total - self.n) * elapsed / counted)} left"
        return text

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        """Nothing: no bar shows it."""

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        """Nothing: no bar shows it."""

    def refresh(self) -> None:
        """Nothing: no bar to draw."""

    def close(self) -> None:
        """Nothing: no bar to take away."""


def clock(seconds: float) -> str:
    """``seconds`` as a clock reads them, rounded to the second: ``0:05``, ``12:34``,
    ``1:02:03``, ``3 d 01:02:03``: the elapsed and left times of the counter's lines, of
    ``taco train``'s step lines and of ``taco evaluate``'s done lines."""
    rest = max(0, round(seconds)) if math.isfinite(seconds) else 0
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, rest = divmod(rest, 60)
    if days:
        return f"{days} d {hours:02d}:{minutes:02d}:{rest:02d}"
    if hours:
        return f"{hours}:{minutes:02d}:{rest:02d}"
    return f"{minutes}:{rest:02d}"


def terminal_columns(stream: TextIO, fallback: int = 80) -> int:
    """The width in columns of the terminal ``stream`` is drawn on: the terminal's own, else
    ``COLUMNS`` where set (a terminal that reports 0 columns: ``stty cols 0``, ``script``,
    ``docker exec -t`` before its size is set; or no terminal, a stream without a file
    descriptor), else ``fallback``.

    The terminal first, unlike :func:`shutil.get_terminal_size`: an exported ``COLUMNS`` is the
    width a shell had when it was set, not the terminal's after a resize, nor another pane's
    (``COLUMNS=120`` on a 60-column terminal drew the bar 119 wide, wrapped at every redraw).
    Not :func:`shutil.get_terminal_size` either for the stream: that measures stdout's terminal,
    none at all when stdout is redirected (``-o -``, ``> log``) while the line goes to stderr
    on a narrow one."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):  # no file descriptor, a closed one, no terminal
        columns = 0
    if columns > 0:
        return columns
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    return columns if columns > 0 else fallback


def _bar_shape(stream: Any) -> tuple[int, int]:
    """``(columns, rows)`` a tqdm bar on ``stream`` is drawn in now, each one short of the
    terminal's as tqdm's own measure takes them: the columns :func:`terminal_columns`'s, the rows
    the terminal's, else tqdm's default 20 (no terminal, or 0 rows: tqdm's own -1 hid the bar
    behind "... (more hidden) ...")."""
    try:
        rows = os.get_terminal_size(stream.fileno()).lines - 1
    except (AttributeError, ValueError, OSError):
        rows = 0
    return terminal_columns(stream) - 1, rows if rows > 0 else 20


def _on_terminal() -> bool:
    """Whether stderr is a terminal a bar is redrawn on, as tqdm's ``disable=None`` takes it (a
    stream without ``isatty`` is drawn on), but not with ``TERM=dumb`` (as
    :class:`taco.cli.progress_line.StageReporter`: a terminal that cannot take ``\\r``
    redraws); no stderr (None), or one closed, is none."""
    if sys.stderr is None or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(sys.stderr, "isatty", None)
    if isatty is None:
        return True
    try:
        return bool(isatty())
    except (OSError, ValueError):  # closed
        return False


def _in_notebook() -> bool:
    """Whether this is a Jupyter kernel's process (``ipykernel`` imported) whose stderr is no
    terminal: the cell shows what is written there, though tqdm's ``disable=None`` took it for
    a log file and drew nothing (``evaluate_model(..., progress=True)`` showed no bar)."""
    if "ipykernel" not in sys.modules or sys.stderr is None:
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
