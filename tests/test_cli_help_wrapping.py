"""Every command's --help breaks its lines at spaces only (taco.cli.common.HelpFormatter):
argparse's own layout broke names at their hyphens (``taco-minilm-`` / ``small-q4``)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest


@pytest.mark.parametrize("command", ["", "compress", "caption", "evaluate", "import-checkpoint",
                                     "train", "demo", "plot", "bench"])
def test_no_help_line_splits_a_word_at_a_hyphen(command: str, cli_help: Callable[[str], str]) -> None:
    text = cli_help(command)
    split = [line for line in text.splitlines() if re.search(r"\w-$", line)]
    assert split == []


def test_names_with_hyphens_stay_whole(cli_help: Callable[[str], str]) -> None:
    assert "taco-minilm-small-q4" in cli_help("compress")
    assert "Salesforce/blip-image-captioning-base" in cli_help("caption")


def test_hand_laid_epilogs_keep_their_lines(cli_help: Callable[[str], str]) -> None:
    assert "\n  kodak:DIR     DIR/kodim01.png" in cli_help("evaluate")
    assert "\n  taco train --resume runs/mine" in cli_help("train")
