"""An empty file, folder or model argument of any command is refused by argparse (exit 2, one line naming the
option), not taken as the current folder (``Path("")`` is ``.``): ``taco compress "$UNSET"`` coded
every photo in the current folder, ``-o ""`` wrote there, ``-m ""`` chose the default model."""

from __future__ import annotations

import pytest

from taco.cli import build_parser

CASES = [
    (["compress", ""], "images"),
    (["compress", "x.png", "-o", ""], "-o/--output"),
    (["compress", "x.png", "-m", ""], "-m/--model"),
    (["compress", "x.png", "--captions", ""], "--captions/--captions-file"),  # as evaluate names it
    (["compress", "x.png", "--clip-path", ""], "--clip-path"),
    (["decompress", ""], "files"),
    (["decompress", "x.taco", "-o", ""], "-o/--output"),
    (["decompress", "x.taco", "-m", ""], "-m/--model"),
    (["info", ""], "files"),
    (["demo", "--image", ""], "--image"),
    (["demo", "-m", ""], "-m/--model"),
    (["demo", "-o", ""], "-o/--output"),
    (["train", ""], "config"),
    (["train", "--out-dir", ""], "-o/--out-dir/--output"),
    (["train", "--init-from", ""], "--init-from"),
    (["train", "--embed-captions", ""], "--embed-captions"),
    (["evaluate", ""], "DATASET"),
    (["evaluate", "photos", "-m", ""], "-m/--model"),
    (["evaluate", "photos", "-o", ""], "-o/--output"),
    (["evaluate", "photos", "--captions-file", ""], "--captions/--captions-file"),
    (["plot", ""], "results"),
    (["plot", "r.json", "-o", ""], "-o/--output"),
    (["caption", ""], "folder"),
    (["caption", "photos", "-m", ""], "-m/--model"),
    (["caption", "photos", "-o", ""], "-o/--output"),
    (["import-captions", ""], "FILE.json"),
    (["import-captions", "k.json", "-o", ""], "-o/--output"),
    (["import-captions", "k.json", "--images", ""], "--images"),
    (["models", ""], "NAME"),
    (["import-checkpoint", ""], "checkpoint"),
    (["import-checkpoint", "c.pth.tar", "-o", ""], "-o/--output"),
    (["bench", "--images", ""], "--images"),
    (["bench", "--json", ""], "--json"),
    (["bench", "--taco-model", ""], "--taco-model"),
]


@pytest.mark.parametrize(("argv", "option"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_an_empty_path_is_refused_naming_the_option(argv, option, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(argv)
    assert exit_info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == f"taco {argv[0]}: error: argument {option}: empty: give a path or name (the current folder is .)"


def test_an_empty_caption_is_still_a_caption():  # --caption '' codes without one, as documented
    args = build_parser().parse_args(["compress", "x.png", "--caption", ""])
    assert args.caption == ""
