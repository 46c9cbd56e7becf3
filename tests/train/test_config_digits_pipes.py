"""Review HC 3: a number of over Python's 4,300-digit limit in ``--set`` or a config file is one
``taco train`` error line, exit 2: no traceback, no advice to call ``sys.set_int_max_str_digits``.
(A config through a pipe is read, as a file is: tests/test_read_file_within_pipes.py.)"""

from __future__ import annotations

import pytest

from taco.cli import main as taco_main
from taco.train.config import ConfigError, apply_overrides, read_config_file

DIGITS = "9" * 5000
HEX = "0x" + "f" * 5000  # parsed (no decimal text is made), then shown in an error


def _train_error(args: list[str], capsys) -> str:
    assert taco_main(["train", *args, "--print-config"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "set_int_max_str_digits" not in err, err
    return err


def test_an_override_of_5000_digits_is_a_config_error(capsys):
    with pytest.raises(ConfigError, match=r"^override 'max_steps': a number of over 4,300 digits$"):
        apply_overrides({}, [f"max_steps={DIGITS}"])
    assert "override 'max_steps': a number of over 4,300 digits" in _train_error(
        ["--set", f"max_steps={DIGITS}"], capsys)


@pytest.mark.parametrize("suffix, text", [(".yaml", f"max_steps: {DIGITS}\n"),
                                          (".toml", f"max_steps = {DIGITS}\n")])
def test_a_config_file_number_of_5000_digits_is_one_line(tmp_path, capsys, suffix, text):
    path = tmp_path / f"digits{suffix}"
    path.write_text(text)
    kind = suffix[1:].upper()
    with pytest.raises(ConfigError, match=f"not valid {kind}: a number of over 4,300 digits$"):
        read_config_file(path)
    assert f"{path}: not valid {kind}: a number of over 4,300 digits" in _train_error([str(path)], capsys)


def test_a_huge_hex_number_is_shown_in_words(tmp_path, capsys):
    # parsed as an int; repr and str of it raised ValueError in the error that refuses it
    err = _train_error(["--set", f"max_steps={HEX}"], capsys)
    assert "max_steps " in err and "got a number of over 4,300 digits" in err
    # where a key takes text, the number is the text written (tests/train/test_config_number_text.py)
    assert apply_overrides({}, [f"out_dir={HEX}", f"data.root={HEX}"]) == {
        "out_dir": HEX, "data": {"root": HEX}}
    path = tmp_path / "hex.toml"
    path.write_text(f"max_steps = {HEX}\n")
    assert "max_steps is too large a number, got a number of over 4,300 digits" in _train_error(
        [str(path)], capsys)

