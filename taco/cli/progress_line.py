"""The line ``taco compress`` and ``taco decompress`` draw on stderr while one long image is coded.

The codec reports its stages through a :data:`taco.progress.Progress` callback;
:class:`StageReporter` is the command line's: nothing for an image done within ``delay`` seconds
(most photos), then one line per stage, with the elapsed time, and a line every ``interval``
seconds while a stage runs on; on a terminal the line is rewritten in place (cut to the width,
in columns, of the terminal it is drawn on, :func:`taco.progress.terminal_columns` and
:func:`fit_line`, as the stream writes it: a character its encoding cannot hold, under
``LC_ALL=C`` most but ASCII, takes the columns of its backslash escape; a wrapped line left a
stale row per update) and cleared at the end, in a log (or on a terminal with ``TERM=dumb``)
each line is printed once.

Imports no torch (see :mod:`taco.cli`).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
import unicodedata
from typing import TextIO

from ..messages import to_stderr
from ..progress import terminal_columns


def stage_delay(args: argparse.Namespace) -> float:
    """Seconds before an image's stages are shown on stderr: 2, or never with --quiet."""
    return float("inf") if args.quiet else 2.0


#: One unit a line is never cut inside: an escape that :func:`taco.messages.shown_path` writes for
#: a character of a file name (``\udcff``, ``\x1b``, ``\n``), else one character.
_UNIT = re.compile(r"\\(?:x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8}|[ntr])|.", re.DOTALL)


def _char_columns(char: str) -> int:
    """Terminal columns of one character: 2 for East Asian wide and fullwidth ones, 0 for
    combining marks, 1 for the others."""
    if unicodedata.category(char) in ("Mn", "Me"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _writable(text: str, encoding: str | None, errors: str | None) -> bool:
    """Whether a stream writing ``encoding`` with ``errors`` writes ``text`` as it is (no
    ``encoding``: any text, a stream of str)."""
    if encoding is None:
        return True
    try:
        text.encode(encoding, "surrogateescape" if errors == "surrogateescape" else "strict")
    except (UnicodeError, LookupError):
        return False
    return True


def _units(text: str, encoding: str | None, errors: str | None) -> list[tuple[str, int]]:
    """``text`` as the stream writes it, in the pieces a cut keeps whole, each with its
    columns: a character the stream's ``encoding`` cannot hold as its backslash escape (as
    the stream's ``backslashreplace`` writes it: ``…`` is ``\\u2026`` in ASCII, six columns),
    and an escape already in the text (:data:`_UNIT`) one piece."""
    units = []
    for match in _UNIT.finditer(text):
        unit = match.group()
        if len(unit) > 1:  # an escape: ASCII, one column a character
            units.append((unit, len(unit)))
        elif _writable(unit, encoding, errors):
            units.append((unit, _char_columns(unit)))
        else:
            escape = unit.encode("ascii", "backslashreplace").decode("ascii")
            units.append((escape, len(escape)))
    return units


def _cut(units: list[tuple[str, int]], columns: int, *, keep_end: bool) -> str:
    """The start (or with ``keep_end`` the end) of ``units`` that fits in ``columns``; a wide
    character or an escape that would straddle the limit is left out, and so are combining
    marks left without the character they go with."""
    pieces = reversed(units) if keep_end else iter(units)
    kept: list[tuple[str, int]] = []
    used = 0
    for unit, width in pieces:
        used += width
        if used > columns:
            break
        kept.append((unit, width))
    if keep_end:
        kept.reverse()
        while kept and kept[0][1] == 0:  # marks whose base character was cut off
            kept.pop(0)
    return "".join(unit for unit, _ in kept)


def fit_line(name: str, status: str, width: int, *, encoding: str | None = None,
             errors: str | None = None) -> str:
    """``name + status`` as a stream writing ``encoding`` (None: any character as it is) shows it,
    in at most ``width`` terminal columns (a wide character, CJK, takes two, a combining mark
    none, a character the encoding cannot hold the columns of its backslash escape, written
    so here): ``name`` (a file name) shortened from the left with ``…`` (``...`` where the
    encoding has no ``…``; its end, the file's own name, is kept; never cut inside an escape,
    ``\\udcff``), ``status`` kept whole; where even ``status`` is wider, its first ``width``
    columns. ``errors="surrogateescape"``: lone surrogates are written as the bytes they
    stand for (others: as escapes)."""
    name_units = _units(name, encoding, errors)
    status_units = _units(status, encoding, errors)
    status_columns = sum(w for _, w in status_units)
    if sum(w for _, w in name_units) + status_columns <= width:
        return "".join(u for u, _ in name_units + status_units)
    ellipsis = "…" if _writable("…", encoding, errors) else "..."
    room = width - status_columns - len(ellipsis)
    if room < 1:
        return _cut(status_units, max(width, 0), keep_end=False)
    return ellipsis + _cut(name_units, room, keep_end=True) + "".join(u for u, _ in status_units)


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
            # measured as the stream writes it: its encoding's escapes (LC_ALL=C: ASCII) widen it
            text = fit_line(self.name, status, terminal_columns(self.stream) - 1,
                            encoding=getattr(self.stream, "encoding", None),
                            errors=getattr(self.stream, "errors", None))
            to_stderr(f"\r{text}\x1b[K", self.stream, end="")

