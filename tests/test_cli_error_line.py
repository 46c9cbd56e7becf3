"""taco.cli.common.error_line gives the line already shown as shown_path shows a name."""

from taco.cli.common import CLIError, error_line


def test_error_line_is_shown_as_a_name_is():
    assert error_line(CLIError("zz\x1b[2J.png: bad\nline")) == "zz\\x1b[2J.png: bad\\nline"
    assert error_line(FileNotFoundError(2, "No such file", "a\nb.png")) == "a\\nb.png: no such file"
    assert error_line(RuntimeError("a bug")) is None
