"""``-o -`` is standard output to taco compress and decompress; taco plot wrote ./-.png,
./-.svg, ..., and taco evaluate, taco demo and taco train made a folder ./-/, taco caption a file FOLDER/-
(review A). They refuse it in
one line, exit 2, before any work, as taco import-captions does; ``./-`` still names it."""

from __future__ import annotations

import pytest

from taco.cli import main


@pytest.mark.parametrize(("argv", "words", "example"), [
    (["plot", "r.json"], "plot writes files (-o NAME: NAME.png, NAME.svg, ...)", "rd"),
    (["evaluate", "kodak", "-m", "elic-tiny"], "evaluate writes a folder of results", "runs/eval"),
    (["demo", "-m", "elic-tiny"], "demo writes a folder of files", "taco-demo"),
    (["train", "--max-steps", "1"], "train writes a run folder", "runs/my-run"),
    (["caption", "."], "caption writes a captions file inside FOLDER", "captions.jsonl"),
    (["import-checkpoint", "ck.pth.tar"], "import-checkpoint writes a .safetensors checkpoint",
     "model.safetensors"),
])
def test_dash_output_is_refused(argv, words, example, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "-o", "-"]) == 2
    err = capsys.readouterr().err
    dash = "./-.safetensors" if argv[0] == "import-checkpoint" else "./-"  # what it then takes
    assert err.splitlines() == [f"taco {argv[0]}: error: -: {words}, not standard output: name it "
                                f"(e.g. -o {example}; -o {dash} for the name -)"]
    assert list(tmp_path.iterdir()) == []
