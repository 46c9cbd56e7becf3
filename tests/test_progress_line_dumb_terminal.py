"""A terminal with TERM=dumb (an editor's shell buffer, a CI log viewer) cannot take the progress
line's rewrite (``\\r ... ESC[K``) and showed the codes (review SC 4): it gets one whole line per
update, as a pipe or a log file does; another terminal keeps the rewrite."""

from __future__ import annotations

import io

import pytest

from taco.cli.progress_line import StageReporter


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("term", "rewritten"), [("dumb", False), ("xterm-256color", True)])
def test_a_dumb_terminal_gets_whole_lines(monkeypatch, term, rewritten):
    monkeypatch.setenv("TERM", term)
    screen = _Terminal()
    with StageReporter("big.png", delay=0.0, stream=screen) as progress:
        progress("analysis", 0, 1)
        progress("entropy coding", 0, 1)
    text = screen.getvalue()
    assert ("\r" in text or "\x1b" in text) == rewritten
    if not rewritten:
        assert [line.rsplit(",", 1)[0] for line in text.splitlines()[:2]] == [
            "big.png: analysis", "big.png: entropy coding"]
