"""A config file with a syntax error: ``taco train CONFIG`` says where in one line,
``PATH:LINE:COL: not valid KIND: PROBLEM``, not PyYAML's several lines of marks and snippets."""

from __future__ import annotations

import pytest

from taco.cli import main as taco_main


@pytest.mark.parametrize(("name", "text", "where", "problem"), [
    ("bad.yaml", "lr: [1,\n 2\nx: : :\n", "3:2",
     "not valid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence at 1:5)\n"),
    ("bad.json", '{"lr": [1,\n 2\n', "3:1", "not valid JSON: expected ',' or ']', but got '<stream end>' "
     "(while parsing a flow sequence at 1:8)\n"),
    # an unclosed quote is found at the end of the file; the context says where it opened
    ("quote.yaml", 'lmbda: "a\n', "2:1",
     "not valid YAML: found unexpected end of stream (while scanning a quoted scalar at 1:8)\n"),
    # no context: the problem alone
    ("tag.yaml", "lr: !!python/object:os.system x\n", "1:5",
     "not valid YAML: could not determine a constructor for the tag"),
    ("bad.toml", "lr = [1,\n 2\nx = = =\n", "3:1", "not valid TOML: Unclosed array"),
])
def test_a_syntax_error_is_one_line_naming_line_and_column(tmp_path, capsys, name, text, where, problem):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert taco_main(["train", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"taco train: error: {path}:{where}: {problem}"), err


def test_an_error_without_a_mark_is_its_first_line(tmp_path, capsys):
    """PyYAML's reader error (a control character) has a position but no line: its first line."""
    path = tmp_path / "ctl.yaml"
    path.write_text("lr: \x01\n", encoding="utf-8")
    assert taco_main(["train", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"taco train: error: {path}: not valid YAML: unacceptable character #x0001: "
                   "special characters are not allowed\n")
