"""Every command's --help breaks its lines at spaces only (taco.cli.common.HelpFormatter):
argparse's own layout broke names at their hyphens (``taco-minilm-`` / ``small-q4``)."""

from __future__ import annotations

import re

import pytest

from taco.cli import main


def help_of(command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"] if command else ["--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", ["", "compress", "caption", "evaluate", "import-checkpoint",
                                     "train", "demo", "plot", "bench"])
def test_no_help_line_splits_a_word_at_a_hyphen(
        command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    text = help_of(command, capsys, monkeypatch)
    split = [line for line in text.splitlines() if re.search(r"\w-$", line)]
    assert split == []


def test_names_with_hyphens_stay_whole(capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    assert "taco-minilm-small-q4" in help_of("compress", capsys, monkeypatch)
    assert "Salesforce/blip-image-captioning-base" in help_of("caption", capsys, monkeypatch)


def test_hand_laid_epilogs_keep_their_lines(capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    assert "\n  kodak:DIR     DIR/kodim01.png" in help_of("evaluate", capsys, monkeypatch)
    assert "\n  taco train --resume runs/mine" in help_of("train", capsys, monkeypatch)
