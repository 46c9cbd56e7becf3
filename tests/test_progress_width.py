"""Review R7-A: the in-place progress line still wrapped. It was sized to stdout's terminal (none
when stdout is redirected, ``-o -`` or ``> log``, so 80 columns while stderr's was 40), and
:func:`fit_line` counted characters, not terminal columns (a wide, CJK, character takes two). A line wider than the terminal is cut
from the left, the status kept whole; a log keeps the whole line.

taco.progress.progress_bar's tqdm bar is as wide as the same :func:`terminal_columns`: a terminal
that reports 0 columns (``stty cols 0``, ``script``, ``docker exec -t`` before its size is set),
which tqdm's own measure took at its word (a one-block bar, or with 0 rows nothing at all), gets
a bar as wide as ``COLUMNS``, else 80 columns. A terminal that reports its width is measured
before ``COLUMNS``, which a shell exported at another width."""

from __future__ import annotations

import io
import os
import struct
import unicodedata
from collections.abc import Callable, Iterator

import pytest

from taco.cli.progress_line import StageReporter, fit_line
from taco.progress import progress_bar, terminal_columns


def columns(text: str) -> int:
    """The test's own measure: 2 for East Asian wide/fullwidth, 0 for combining marks, else 1."""
    return sum(0 if unicodedata.category(c) in ("Mn", "Me")
               else 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


# -- fit_line measures terminal columns


def test_a_wide_name_is_cut_by_columns() -> None:
    name = "写真" * 8 + ".png"  # 20 characters, 36 columns
    line = fit_line(name, ": analysis, 3 s", 39)
    assert columns(line) <= 39
    assert line.startswith("…") and line.endswith("真.png: analysis, 3 s")


@pytest.mark.parametrize("width", range(17, 60))
def test_a_wide_name_never_exceeds_the_width(width: int) -> None:
    line = fit_line("写真" * 8 + ".png", ": analysis, 3 s", width)
    assert columns(line) <= width
    # the whole line is 51 columns; a wide character straddling the limit leaves one free
    assert columns(line) >= min(width, 51) - 1


def test_a_wide_name_that_fits_in_columns_is_kept() -> None:
    assert fit_line("写真.png", ": analysis, 3 s", 23) == "写真.png: analysis, 3 s"  # 8 + 15 columns


def test_combining_marks_take_no_column() -> None:
    name = "e\u0301" * 10 + ".png"  # 24 characters, 14 columns
    assert fit_line(name, ": analysis, 3 s", 29) == name + ": analysis, 3 s"
    cut = fit_line(name, ": analysis, 3 s", 25)
    assert columns(cut) <= 25 and not unicodedata.combining(cut[1])  # no mark left without its e


def test_a_wide_status_is_cut_by_columns() -> None:
    assert fit_line("a.png", ": 写真写真", 6) == ": 写真"
    assert fit_line("a.png", ": 写真写真", 5) == ": 写"  # the next one would straddle the last column


# -- the width is that of the stream the line is drawn on


@pytest.fixture
def sized_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[int, int], tuple[io.TextIOWrapper, int]]]:
    """Makes a pseudo-terminal of ``rows`` by ``cols`` (stdout, here pytest's capture, is no
    terminal): its screen to write on, and the master end to read what was drawn from."""
    pty = pytest.importorskip("pty")
    pytest.importorskip("fcntl")
    pytest.importorskip("termios")
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    made: list[tuple[io.TextIOWrapper, int]] = []

    def make(rows: int, cols: int) -> tuple[io.TextIOWrapper, int]:
        master, slave = pty.openpty()
        resize(slave, rows, cols)
        made.append((open(slave, "w", encoding="utf-8"), master))
        return made[-1]

    yield make
    for screen, master in made:
        screen.close()
        os.close(master)


def resize(fd: int, rows: int, cols: int) -> None:
    """What a terminal does when its window changes (or ``stty rows R cols C``)."""
    import fcntl
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


@pytest.fixture
def narrow_terminal(sized_terminal) -> tuple[io.TextIOWrapper, int]:
    """A pseudo-terminal 40 columns wide."""
    return sized_terminal(24, 40)


def test_the_width_is_the_streams_terminal(narrow_terminal, monkeypatch: pytest.MonkeyPatch) -> None:
    """The terminal first, then COLUMNS (db5e7a7 took COLUMNS first, as shutil.get_terminal_size
    does: an exported COLUMNS is the width of when it was set, not of the terminal now)."""
    screen, _ = narrow_terminal
    assert terminal_columns(screen) == 40
    for value in ("30", "120"):
        monkeypatch.setenv("COLUMNS", value)
        assert terminal_columns(screen) == 40
    assert terminal_columns(io.StringIO()) == 120  # no terminal: COLUMNS


def test_a_terminal_of_no_columns_takes_columns(sized_terminal, monkeypatch: pytest.MonkeyPatch) -> None:
    screen, _ = sized_terminal(24, 0)
    monkeypatch.setenv("COLUMNS", "50")
    assert terminal_columns(screen) == 50
    monkeypatch.setenv("COLUMNS", "0")
    assert terminal_columns(screen, fallback=60) == 60


def test_without_a_terminal_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert terminal_columns(io.StringIO()) == 80
    monkeypatch.setenv("COLUMNS", "wide")
    assert terminal_columns(io.StringIO(), fallback=50) == 50


def test_a_terminal_of_no_columns_the_fallback(sized_terminal) -> None:
    screen, _ = sized_terminal(0, 0)
    assert terminal_columns(screen) == 80
    assert terminal_columns(screen, fallback=50) == 50


def bar_rows(master: int) -> list[str]:
    """The bar's drawings on the terminal, up to the end of line its ``close`` leaves, each
    without the spaces tqdm pads a shorter one with (to wipe the longer one before it)."""
    select = pytest.importorskip("select")
    shown = b""
    # what was written reaches the master end in pieces, not always at once; the wait only keeps
    # a bar that never ends its line from hanging the test
    while not shown.endswith(b"\n") and select.select([master], [], [], 30)[0]:
        shown += os.read(master, 65536)
    return [row.rstrip(" ") for row in shown.decode("utf-8").replace("\n", "\r").split("\r")
            if row.strip()]


@pytest.mark.parametrize(("rows", "cols", "width"),
                         [(24, 0, 79), (0, 0, 79), (0, 60, 59), (24, 60, 59)])
def test_the_bar_is_as_wide_as_the_terminal_or_80(sized_terminal, monkeypatch, rows, cols,
                                                   width) -> None:
    """One column short of the terminal (of 80 where it reports none), as tqdm draws on one."""
    screen, master = sized_terminal(rows, cols)
    monkeypatch.setattr("sys.stderr", screen)
    bar = progress_bar(total=4, desc="jpeg", unit="img")
    bar.update(4)
    bar.close()
    drawn = bar_rows(master)
    assert drawn[-1].startswith("jpeg: 100%|" + "\u2588" * 10) and drawn[-1].endswith("]")
    assert [columns(row) for row in drawn] == [width] * len(drawn)


@pytest.mark.parametrize(("cols", "width"), [(60, 59), (0, 119)])
def test_columns_sizes_the_bar_only_where_the_terminal_reports_no_width(sized_terminal, monkeypatch, cols,
                                                                        width) -> None:
    """With stty cols 60 and COLUMNS=120 the bar was drawn 119 wide on the 60-column terminal, and
    every redraw wrapped; tqdm's own measure before db5e7a7 drew it 59."""
    screen, master = sized_terminal(24, cols)
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setattr("sys.stderr", screen)
    bar = progress_bar(total=4, desc="jpeg", unit="img")
    bar.update(2)
    bar.update(2)
    bar.close()
    drawn = bar_rows(master)
    assert drawn[-1].startswith("jpeg: 100%|" + "\u2588" * 10) and drawn[-1].endswith("]")
    assert [columns(row) for row in drawn] == [width] * len(drawn)


def test_the_bar_follows_the_terminal_when_it_gets_a_size(sized_terminal, monkeypatch) -> None:
    screen, master = sized_terminal(0, 0)
    monkeypatch.setattr("sys.stderr", screen)
    bar = progress_bar(range(4), desc="jpeg", unit="img")
    resize(screen.fileno(), 24, 50)
    list(bar)
    drawn = bar_rows(master)
    assert columns(drawn[0]) == 79 and columns(drawn[-1]) == 49


def test_the_line_on_a_narrow_stderr_fits_it(narrow_terminal) -> None:
    screen, master = narrow_terminal
    with StageReporter("a" * 50 + ".png", delay=0.0, stream=screen) as progress:
        progress("analysis", 0, 1)
    shown = os.read(master, 65536).decode("utf-8")
    rows = [row.removesuffix("\x1b[K") for row in shown.split("\r") if row.strip("\x1b[K")]
    assert rows and all(columns(row) <= 39 for row in rows)  # one column short of the width
    assert rows[0].startswith("…") and rows[0].endswith(".png: analysis, 0 s")


def test_the_line_on_a_narrow_stderr_fits_it_whatever_columns_says(narrow_terminal, monkeypatch) -> None:
    """COLUMNS=120 on a 40-column terminal: the line was cut to 119 columns and wrapped, and the
    next rewrite left its first row behind."""
    screen, master = narrow_terminal
    monkeypatch.setenv("COLUMNS", "120")
    with StageReporter("a" * 80 + ".png", delay=0.0, stream=screen) as progress:
        progress("analysis", 0, 1)
    shown = os.read(master, 65536).decode("utf-8")
    rows = [row.removesuffix("\x1b[K") for row in shown.split("\r") if row.strip("\x1b[K")]
    assert rows and all(columns(row) <= 39 for row in rows)
    assert rows[0].startswith("…") and rows[0].endswith(".png: analysis, 0 s")


def test_a_wide_name_on_a_narrow_stderr_fits_it(narrow_terminal) -> None:
    screen, master = narrow_terminal
    with StageReporter("写真" * 8 + ".png", delay=0.0, stream=screen) as progress:
        progress("analysis", 0, 1)
    shown = os.read(master, 65536).decode("utf-8")
    rows = [row.removesuffix("\x1b[K") for row in shown.split("\r") if row.strip("\x1b[K")]
    assert rows and all(columns(row) <= 39 for row in rows)


# -- a line wider than the terminal wrapped, and '\r ... ESC[K' rewrote only its last row,
# leaving a stale row per update
def test_a_line_that_fits_is_kept() -> None:
    assert fit_line("a.png", ": analysis, 3 s", 40) == "a.png: analysis, 3 s"
    assert fit_line("a.png", ": analysis, 3 s", 20) == "a.png: analysis, 3 s"  # exactly the width


def test_a_long_name_is_cut_from_the_left_and_the_status_kept_whole() -> None:
    name = "/data/some/very/long/folder/of/photos/kodim23.png"
    line = fit_line(name, ": entropy coding 3/8, 12 s", 40)
    assert len(line) == 40
    assert line.startswith("…") and line.endswith("kodim23.png: entropy coding 3/8, 12 s")


def test_a_terminal_narrower_than_the_status_gets_its_start() -> None:
    assert fit_line("photo.png", ": analysis, 3 s", 10) == ": analysis"
    assert fit_line("photo.png", ": analysis, 3 s", 0) == ""


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_rewritten_line_fits_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "30")
    screen = _Terminal()
    with StageReporter("x" * 60 + ".png", delay=0.0, stream=screen) as progress:
        progress("analysis", 0, 1)
    shown = [row.removesuffix("\x1b[K") for row in screen.getvalue().split("\r") if row.strip("\x1b[K")]
    assert shown and all(len(row) <= 29 for row in shown)  # one column short of the width
    assert shown[0].startswith("…") and ".png: analysis, " in shown[0]


def test_a_log_keeps_the_whole_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    log = io.StringIO()  # not a terminal: nothing is rewritten, so nothing is cut
    with StageReporter("x" * 60 + ".png", delay=0.0, stream=log) as progress:
        progress("analysis", 0, 1)
    assert log.getvalue().startswith("x" * 60 + ".png: analysis, ")


def test_no_room_for_any_of_the_name_gives_the_status_alone() -> None:
    # room for the status and the … but no character of the name: name[-0:] would be all of it
    assert fit_line("abcdef", "xyz", 4) == "xyz"
    assert fit_line("abcdef", "xyz", 5) == "…fxyz"


def test_a_width_below_zero_gives_nothing() -> None:
    # status[:-1] would be all of the status but its last character, wider than asked
    assert fit_line("abcdef", "xyz", -1) == ""


# -- the line is measured as the stream writes it: under LC_ALL=C (ASCII, backslashreplace)
# "…" is "\u2026" (6 columns, not 1), 中 "\u4e2d": the line was wider than the terminal, and
# a cut could fall inside an escape ("dc96.png")

ESCAPED = "big_\\udce4\\udcb8\\udcad\\udce6\\udc96\\udc87\\udcc3\\udca9.png"  # shown_path's, LC_ALL=C


def _escape_boundaries(text: str) -> set[int]:
    """Where each character or escape of ``text`` starts (the escapes here are all 6 long)."""
    starts, i = set(), 0
    while i < len(text):
        starts.add(i)
        i += 6 if text.startswith("\\u", i) else 4 if text.startswith("\\x", i) else 1
    return starts


@pytest.mark.parametrize("width", range(22, 80))  # room for "...", ".png" and the status
@pytest.mark.parametrize("name", ["big_中文é.png", ESCAPED])
def test_an_ascii_stream_gets_the_line_it_writes_within_the_width(name: str, width: int) -> None:
    line = fit_line(name, ": analysis, 3 s", width, encoding="ascii", errors="backslashreplace")
    assert line.isascii() and len(line) <= width
    written = name.encode("ascii", "backslashreplace").decode("ascii")
    if len(written) + 15 <= width:
        assert line == written + ": analysis, 3 s"
    else:
        assert line.startswith("...") and line.endswith(".png: analysis, 3 s")
        kept = line.removeprefix("...").removesuffix(": analysis, 3 s")
        assert written.endswith(kept) and len(written) - len(kept) in _escape_boundaries(written)
        assert len(line) >= width - 5  # at most an escape's columns, less one, left free


def test_a_utf8_stream_keeps_the_ellipsis_and_the_characters() -> None:
    line = fit_line("写真" * 8 + ".png", ": analysis, 3 s", 39, encoding="utf-8", errors="strict")
    assert line.startswith("…") and line.endswith("真.png: analysis, 3 s") and columns(line) <= 39


def test_the_rewritten_line_on_an_ascii_stderr_fits_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """COLUMNS=40 LC_ALL=C PYTHONUTF8=0: the rewrites were 44 columns wide, and wrapped."""
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "40")

    class AsciiTerminal(io.TextIOWrapper):
        def isatty(self) -> bool:
            return True

    raw = io.BytesIO()
    screen = AsciiTerminal(raw, encoding="ascii", errors="backslashreplace", write_through=True)
    for name in ("photos/big_中文é.png", "photos/" + ESCAPED):  # 31 and 63 columns written
        with StageReporter(name, delay=0.0, stream=screen) as progress:
            progress("analysis", 0, 1)
    rows = [row.removesuffix("\x1b[K") for row in raw.getvalue().decode("ascii").split("\r")
            if row.strip("\x1b[K")]
    assert len(rows) == 2 and all(len(row) <= 39 for row in rows)
    assert all(row.startswith("...") and "\\u2026" not in row for row in rows)
    assert all(".png: analysis, 0 s" in row for row in rows)


def test_a_surrogateescape_stream_counts_an_escaped_byte_as_one_column() -> None:
    """A stream writing lone surrogates as the bytes they stand for (errors="surrogateescape")
    shows a name's undecodable byte in one column, not as its six-column escape."""
    name = "x\udcff.png"  # 6 characters, 6 columns as written
    assert fit_line(name, " 1s", 9, encoding="ascii", errors="surrogateescape") == name + " 1s"
    assert fit_line(name, " 1s", 9, encoding="ascii", errors="backslashreplace") != name + " 1s"


@pytest.mark.parametrize("width", range(3, 14))
def test_a_two_character_escape_in_a_name_is_never_cut(width: int) -> None:
    """shown_path writes a newline in a name as the two characters \\n: kept whole or left out."""
    line = fit_line("a\\nb.png", " 1s", width)
    assert line.endswith(" 1s") and columns(line) <= width
    kept = line.removesuffix(" 1s").removeprefix("…")
    assert kept in ("a\\nb.png", "\\nb.png", "b.png", ".png", "png", "ng", "g", "")  # never "nb.png"
