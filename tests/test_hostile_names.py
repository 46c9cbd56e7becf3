"""Names taco reads from files made by someone else: shown without their escape codes or line
breaks in warnings and error lines, refused where they would lead out of a dataset's folder on
some system (a drive, a Windows root) or name one image several ways, and a captions file that
is a symbolic link is not appended to through it."""

from __future__ import annotations

import taco.cli
from taco.errors import TacoWarning
from taco.messages import shown_path, warning_printer

HOSTILE = "zz\x1b[2J\x1b]0;pwned\x07\nx.png"


def test_a_warning_shows_a_name_without_escape_codes_or_line_breaks(capsys):
    show = warning_printer("evaluate")
    show(TacoWarning(f"skipping 1 listed without an image file ({HOSTILE})"), TacoWarning, "f.py", 1)
    show(UserWarning(f"a library's ({HOSTILE})"), UserWarning, "f.py", 1)
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and err.count("\n") == 2
    assert "zz\\x1b[2J\\x1b]0;pwned\\x07\\nx.png" in err
    assert err.startswith("taco evaluate: warning: skipping") and "warning: UserWarning: a library's" in err


def test_a_warning_shown_twice_is_not_escaped_twice(capsys):
    text = shown_path(HOSTILE)
    assert shown_path(text) == text  # what is shown already is shown as it is
    warning_printer("train")(TacoWarning(text), TacoWarning, "f.py", 1)
    assert capsys.readouterr().err == f"taco train: warning: {text}\n"


def test_an_error_line_shows_a_name_without_escape_codes(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert taco.cli.main(["caption", "nod\x1b[2J\nx"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and err.count("\n") == 1 and "nod\\x1b[2J\\nx" in err
