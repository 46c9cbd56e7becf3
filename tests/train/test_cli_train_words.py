"""taco train's command line as a reader meets it: --output as the other commands' long -o, a
config file given after --set said as such, and a --help recipe that fits 80 columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from taco.cli import main

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "configs" / "smoke.yaml"


def test_output_is_the_out_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", str(SMOKE), "--output", str(tmp_path / "mine"), "--print-config"]) == 0
    assert f"out_dir: {tmp_path / 'mine'}" in capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("name", ["smoke.yaml", "run.YML", "c.json", "c.toml"])
def test_a_config_after_set_is_said_to_be_one(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--set", "max_steps=1", name]) == 2
    assert capsys.readouterr().err.strip() == (
        f"taco train: error: override '{name}' is not key=value (a config file? give it before "
        "--set: taco train CONFIG --set ...)")


def test_another_word_without_equals_is_only_not_key_value(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--set", "max_steps=1", "bogus"]) == 2
    assert capsys.readouterr().err.strip() == "taco train: error: override 'bogus' is not key=value"


def test_the_help_fits_80_columns(capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    assert [line for line in text.splitlines() if len(line) > 80] == []
    assert "-o DIR, --out-dir DIR, --output DIR" in text


@pytest.mark.parametrize("value", ["0", "-3"])
def test_max_steps_below_one_is_said_as_the_option(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Review M: --max-steps 0 was reported by its config key ('max_steps must be >= 1'), where
    the sibling options say 'argument --X: must be at least 1'."""
    with pytest.raises(SystemExit) as e:
        main(["train", str(SMOKE), "--max-steps", value, "--print-config"])
    assert e.value.code == 2
    assert capsys.readouterr().err.strip().endswith(
        f"taco train: error: argument --max-steps: must be at least 1, got {value}")
