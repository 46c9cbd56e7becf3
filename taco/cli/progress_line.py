"""The line ``taco compress`` and ``taco decompress`` draw on stderr while one long image is coded.

The codec reports its stages through a :data:`taco.progress.Progress` callback;
:class:`StageReporter` is the command line's: nothing for an image done within ``delay`` seconds
(most photos), then one line per stage, with the elapsed time, and a line every ``interval``
seconds while a stage runs on; on a terminal the line is rewritten in place (cut to the width,
in columns, of the terminal it is drawn on, :func:`terminal_columns` and :func:`fit_line`: a
wrapped line left a stale row per update) and cleared at the end, in a log (or on a terminal with
``TERM=dumb``) each line is printed once.

Imports no torch (see :mod:`taco.cli`).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import unicodedata
from typing import TextIO

from ..messages import to_stderr


def stage_delay(args: argparse.Namespace) -> float:
    """Seconds before an image's stages are shown on stderr: 2, or never with --quiet."""
    return float("inf") if args.quiet else 2.0


def terminal_columns(stream: TextIO, fallback: int = 80) -> int:
    """The width in columns of the terminal ``stream`` is drawn on: ``COLUMNS`` where set (as
    :func:`shutil.get_terminal_size` takes it), else the terminal's own, else ``fallback``.

    Not :func:`shutil.get_terminal_size`: that measures stdout's terminal, none at all when stdout
    is redirected (``-o -``, ``> log``) while the line goes to stderr on a narrow one."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):  # no file descriptor, a closed one, no terminal
        return fallback
    return columns if columns > 0 else fallback


def _char_columns(char: str) -> int:
    """Terminal columns of one character: 2 for East Asian wide and fullwidth ones, 0 for
    combining marks, 1 for the others."""
    if unicodedata.category(char) in ("Mn", "Me"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _text_columns(text: str) -> int:
    return sum(_char_columns(char) for char in text)


def _cut(text: str, columns: int, *, keep_end: bool) -> str:
    """The start (or with ``keep_end`` the end) of ``text`` that fits in ``columns``; a wide
    character that would straddle the limit is left out, and so are combining marks left
    without the character they go with."""
    chars = reversed(text) if keep_end else iter(text)
    kept: list[str] = []
    used = 0
    for char in chars:
        used += _char_columns(char)
        if used > columns:
            break
        kept.append(char)
    if keep_end:
        kept.reverse()
        while kept and _char_columns(kept[0]) == 0:  # marks whose base character was cut off
            kept.pop(0)
    return "".join(kept)


def fit_line(name: str, status: str, width: int) -> str:
    """``name + status`` in at most ``width`` terminal columns (a wide character, CJK, takes two, a
    combining mark none): ``name`` (a file name) shortened from the left with ``…`` (its end, the
    file's own name, is kept), ``status`` kept whole; where even ``status`` is wider, its first
    ``width`` columns."""
    status_columns = _text_columns(status)
    if _text_columns(name) + status_columns <= width:
        return name + status
    room = width - status_columns - 1  # one for the …
    if room < 1:
        return _cut(status, max(width, 0), keep_end=False)
    return "…" + _cut(name, room, keep_end=True) + status


class StageReporter:
    """A :data:`taco.progress.Progress` callback that prints ``NAME: STAGE [i/n], T s`` once past ``delay``.

    Use as a context manager around the work of one image; a background thread keeps the line
    alive while a stage runs without reporting (a 12 MP synthesis transform is one call).
    """

    def __init__(self, name: str, *, delay: float = 2.0, interval: float = 10.0,
                 stream: TextIO | None = None) -> None:
        self.name = name
        self.delay = delay
        self.interval = interval
        self.stream = stream if stream is not None else sys.stderr
        # a terminal that takes the rewrite (\r ... ESC[K): not TERM=dumb (an editor's shell
        # buffer, a CI log), which gets one line per update, as a pipe does
        self.tty = (bool(getattr(self.stream, "isatty", lambda: False)())
                    and os.environ.get("TERM") != "dumb")
        self._stage = "starting"
        self._parts = ""
        self._t0 = time.perf_counter()
        self._last_line = ""
        self._last_print = 0.0
        self._shown = False
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            self._stage = stage
            self._parts = f" {done}/{total}" if total > 1 else ""
        self._show(force=False)

    def __enter__(self) -> StageReporter:
        self._t0 = time.perf_counter()
        if self.delay != float("inf"):  # (--quiet: never shown, no thread to start and join)
            self._thread = threading.Thread(target=self._watch, name="taco-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        if self._shown and self.tty:
            to_stderr("\r\x1b[K", self.stream, end="")  # the result line printed next replaces it

    def _watch(self) -> None:
        while not self._done.wait(0.25):
            self._show(force=True)

    def _show(self, *, force: bool) -> None:
        now = time.perf_counter()
        elapsed = now - self._t0
        if elapsed < self.delay:
            return
        with self._lock:
            line = f"{self.name}: {self._stage}{self._parts}"
            changed = line != self._last_line
            due = now - self._last_print >= (1.0 if self.tty else self.interval)
            if not (changed or (force and due)):
                return
            self._last_line, self._last_print, self._shown = line, now, True
            status = f": {self._stage}{self._parts}, {elapsed:.0f} s"
            if not self.tty:
                to_stderr(f"{self.name}{status}\n", self.stream, end="")
                return
            # one column short of the width: a line that fills the last column wraps on some terminals
            text = fit_line(self.name, status, terminal_columns(self.stream) - 1)
            to_stderr(f"\r{text}\x1b[K", self.stream, end="")

