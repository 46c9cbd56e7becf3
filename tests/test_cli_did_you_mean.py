"""A mistyped command, option or choice is refused with the closest names (taco.cli.Parser,
CommandParser), as an unknown model or config key is (taco.messages.did_you_mean)."""

from __future__ import annotations

import pytest

from taco.cli import main


def error_of(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    assert exit_.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]


def test_a_mistyped_option_names_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    line = error_of(capsys, "compress", "--forse", "x.png")
    assert line == "taco compress: error: unrecognized arguments: --forse (did you mean '--force'?)"


def test_an_option_with_a_value_is_matched_by_its_name(capsys: pytest.CaptureFixture[str]) -> None:
    line = error_of(capsys, "evaluate", "--limt=3", "samples")
    assert line.endswith("unrecognized arguments: --limt=3 (did you mean '--limit'?)")


def test_an_option_like_none_gets_no_hint(capsys: pytest.CaptureFixture[str]) -> None:
    line = error_of(capsys, "info", "-q", "x.taco")
    assert line == "taco info: error: unrecognized arguments: -q"


def test_a_mistyped_command_names_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    line = error_of(capsys, "compres", "x.png")
    assert line.startswith("taco: error: argument COMMAND: invalid choice: 'compres' (choose from ")
    assert line.endswith(" (did you mean 'compress' or 'decompress'?)")


def test_a_mistyped_choice_names_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    line = error_of(capsys, "evaluate", "--fid", "ful", "samples")
    assert line.endswith("invalid choice: 'ful' (choose from 'auto', 'full', 'patches', 'off') "
                         "(did you mean 'full'?)")


def test_options_are_not_alike_by_their_dashes_alone(capsys: pytest.CaptureFixture[str]) -> None:
    line = error_of(capsys, "compress", "--no-such-option", "x.png")
    assert line == "taco compress: error: unrecognized arguments: --no-such-option"


def test_an_upper_case_model_name_gets_the_hint_but_is_not_taken(
        tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    """Model names stay case-sensitive: TACO-MINILM-SMALL-Q4 is refused, with the name meant."""
    from PIL import Image

    Image.new("RGB", (64, 64)).save(tmp_path / "x.png")
    assert main(["compress", str(tmp_path / "x.png"), "--caption", "hi", "--model", "TACO-MINILM-SMALL-Q4"]) == 2
    err = capsys.readouterr().err
    assert "model 'TACO-MINILM-SMALL-Q4' is neither a checkpoint file nor a built-in model " \
           "(did you mean 'taco-minilm-small-q4'" in err, err
