"""The evaluation commands' options read as compress's: --captions FILE.jsonl (with
--captions-file kept), counts as N, caption's -o as a FILE (a bare name inside FOLDER, or a path)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from taco.cli import build_parser


@pytest.mark.parametrize("flag", ["--captions", "--captions-file"])
def test_evaluate_takes_captions_as_compress_does(flag: str) -> None:
    args = build_parser(["evaluate"]).parse_args(["evaluate", "samples", flag, "c.jsonl"])
    assert args.captions_file == "c.jsonl"


@pytest.mark.parametrize(("command", "shown"), [
    ("evaluate", ["--captions FILE.jsonl, --captions-file FILE.jsonl", "--limit N", "--crop N",
                  "--seed N", "--bootstrap N", "--threads N"]),
    ("caption", ["-o FILE, --output FILE", "--batch-size N", "--max-new-tokens N", "--limit N"]),
    ("import-checkpoint", ["--model-id NAME"]),
])
def test_metavars_are_short(command: str, shown: list[str], cli_help: Callable[[str], str]) -> None:
    text = " ".join(cli_help(command).split())
    assert [s for s in shown if s not in text] == []
    assert "MAX_NEW_TOKENS" not in text and "BATCH_SIZE" not in text and "MODEL_ID" not in text
