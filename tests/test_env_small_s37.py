"""Review EN-C, small environment defects: the in-place progress line wider than the terminal
(#2), a damaged CLIP tokenizer cache file (#3), a relative XDG_CACHE_HOME (#4)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from taco.cli.progress_line import StageReporter, fit_line
from taco.text import clip_vocab

# -- #2: a line wider than the terminal wrapped, and '\r ... ESC[K' rewrote only its last row,
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


# -- #3 and #4: taco's cache folder


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TACO_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    clip_vocab.clip_bpe_folder.cache_clear()
    yield tmp_path
    clip_vocab.clip_bpe_folder.cache_clear()  # the next caller writes to its own cache again


def test_a_damaged_tokenizer_file_is_rewritten(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not UTF-8: read as text, it was a UnicodeDecodeError traceback at every run."""
    monkeypatch.setenv("TACO_CACHE_DIR", str(cache / "c"))
    (cache / "c" / "clip-bpe").mkdir(parents=True)
    vocab = cache / "c" / "clip-bpe" / "vocab.json"
    vocab.write_bytes(b"\xff\xfe\x00garbage")
    assert clip_vocab.clip_bpe_folder() == cache / "c" / "clip-bpe"
    assert vocab.read_text(encoding="utf-8").startswith('{"!": 0')


@pytest.mark.parametrize("value", ["relative/cache", "cache"])
def test_a_relative_xdg_cache_home_is_ignored(cache: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """The XDG Base Directory specification: a relative path in XDG_CACHE_HOME is invalid and
    is ignored (it made a cache inside whatever the current folder was)."""
    monkeypatch.setenv("XDG_CACHE_HOME", value)
    assert clip_vocab.taco_cache_dir() == cache / "home" / ".cache" / "taco"


def test_an_absolute_xdg_cache_home_is_used(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache / "xdg"))
    assert clip_vocab.taco_cache_dir() == cache / "xdg" / "taco"


def test_the_cache_variables_are_documented() -> None:
    """The error when no cache folder can be written tells users to set TACO_CACHE_DIR."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "models.md").read_text(encoding="utf-8")
    assert "`TACO_CACHE_DIR`" in text and "XDG_CACHE_HOME" in text
