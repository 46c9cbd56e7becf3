"""taco.cli.common.error_line gives the line already shown as shown_path shows a name, and so
does the command line's own refusal (taco.cli.Parser.error)."""

import pytest

from taco.cli import main
from taco.cli.common import CLIError, error_line


def test_error_line_is_shown_as_a_name_is():
    assert error_line(CLIError("zz\x1b[2J.png: bad\nline")) == "zz\\x1b[2J.png: bad\\nline"
    assert error_line(FileNotFoundError(2, "No such file", "a\nb.png")) == "a\\nb.png: no such file"
    assert error_line(RuntimeError("a bug")) is None


@pytest.mark.parametrize(("argv", "line"), [
    (["demo", "--q\x1b]0;pwned\x07"], "taco demo: error: unrecognized arguments: --q\\x1b]0;pwned\\x07"),
    (["compress", "--forse=\x1b[2J", "x.png"],
     "taco compress: error: unrecognized arguments: --forse=\\x1b[2J (did you mean '--force'?)"),
    (["compress", "--q=\u202egnp.exe", "x.png"],
     "taco compress: error: ambiguous option: --q=\\u202egnp.exe could match --quality, --quiet"),
])
def test_a_word_the_command_line_refuses_is_shown_as_a_name_is(argv, line, capsys):
    """A glob that matched a file named ``--q<ESC>]0;pwned<BEL>`` set the terminal's title in
    argparse's ``unrecognized arguments`` line, and a right-to-left override reversed the rest of
    an ``ambiguous option`` line; the closest option is still named."""
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith(line) and not {"\x1b", "\x07", "\u202e"} & set(err)
