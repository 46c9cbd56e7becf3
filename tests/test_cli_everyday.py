"""The everyday command line's small promises: options that cannot go together, what a line
says of the input, who reports an unknown option."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from taco.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "taco" / "assets" / "samples"
CHELSEA = SAMPLES / "skimage-chelsea.png"


def test_caption_and_captions_file_are_one_or_the_other(tmp_path, capsys):
    """--captions FILE is the only source of captions when given, so --caption beside it is
    refused by argparse (it was silently ignored) before any image is read."""
    shutil.copy(CHELSEA, tmp_path / "a.png")
    (tmp_path / "caps.jsonl").write_text('{"image": "a.png", "captions": ["a cat"]}\n')
    with pytest.raises(SystemExit) as exit_:
        main(["compress", str(tmp_path / "a.png"), "--caption", "x", "--captions",
              str(tmp_path / "caps.jsonl"), "-m", "taco-tiny"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: taco compress ")
    assert err.splitlines()[-1] == ("taco compress: error: argument --captions: not allowed with "
                                    "argument --caption")
    assert not (tmp_path / "a.taco").exists()
