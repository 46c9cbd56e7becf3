"""Text that is not UTF-8 given to ``taco evaluate`` / ``taco plot`` (an image's file name,
``--label``, ``--anchor``, ``--title``) is refused in one line before any work: the results
files are UTF-8 and matplotlib cannot draw a lone surrogate. And ``--label`` without a
``--model`` (it names a model's curve) is refused, not ignored."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import taco
from taco.cli import main
from taco.evaluation.datasets import DatasetError, open_dataset

NOT_UTF8 = os.fsdecode(b"x\xff")  # "x\udcff" where file names are read with surrogateescape


@pytest.fixture
def bad_name_folder(tiny_folder):
    """``tiny_folder`` with one more image, ``x<0xff>.png``, captioned by its sidecar."""
    if NOT_UTF8 == "x\xff":
        pytest.skip("this file system's names are not read with surrogateescape")
    image = tiny_folder / f"{NOT_UTF8}.png"
    try:
        shutil.copy(next(tiny_folder.glob("*.png")), image)
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses a name that is not UTF-8")
    (tiny_folder / f"{NOT_UTF8}.txt").write_text("a caption\n")
    return tiny_folder


def test_an_image_name_that_is_not_utf8_is_refused_when_the_dataset_opens(bad_name_folder):
    """It was coded with every codec, then the CSV write raised UnicodeEncodeError (a traceback,
    exit 1, a CSV with its header alone)."""
    with pytest.raises(DatasetError, match=r"x\\udcff\.png: the file name holds a lone surrogate "
                       r"at character 2, .*; rename it$"):
        open_dataset(str(bad_name_folder))


def test_evaluate_refuses_it_in_one_line_before_writing(taco_main, bad_name_folder, tmp_path, capsys):
    out = tmp_path / "ev"
    assert taco_main(["evaluate", str(bad_name_folder), "--classic", "jpeg", "--qualities", "jpeg=50",
                      "--fid", "off", "--cmmd-clip", "off", "--no-plot", "-o", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("taco evaluate: error: ") and "x\\udcff.png" in err and err.endswith("rename it")
    assert not out.exists()


@pytest.mark.parametrize("argv", [
    ["evaluate", "DATA", "-m", "elic-tiny", "--label", f"RD {NOT_UTF8}"],
    ["evaluate", "DATA", "--classic", "jpeg", "--anchor", f"J{NOT_UTF8}"],
    ["plot", "DATA", "--anchor", f"J{NOT_UTF8}"],
    ["plot", "DATA", "--title", f"RD {NOT_UTF8}"],
])
def test_label_anchor_and_title_that_are_not_utf8_are_refused_as_given(taco_main, tmp_path, capsys, argv):
    """matplotlib raised TypeError drawing them, and evaluate saved such a label in its JSON."""
    option = argv[-2]
    argv = [str(tmp_path) if a == "DATA" else a for a in argv] + ["-o", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as stop:
        taco_main(argv)
    assert stop.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"taco {argv[0]}: error: argument {option}: holds a lone surrogate at character "
        f"{len(argv[argv.index(option) + 1])}, U+DCFF (a \\udcff escape, or the byte 0xff of text "
        "that is not UTF-8), which UTF-8 cannot encode: give it as UTF-8 text")
    assert not (tmp_path / "out").exists()


def test_label_without_a_model_is_refused(taco_main, tiny_folder, tmp_path, capsys):
    """--label names a --model's curve; with the classic codecs alone it was silently ignored."""
    assert taco_main(["evaluate", str(tiny_folder), "--classic", "jpeg", "--label", "X",
                      "-o", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "taco evaluate: error: --label names the RD curve of the --model runs, and no --model is "
        "given: give --model too, or leave --label out")
    assert not (tmp_path / "out").exists()


BAD = os.fsdecode(b"\xff")  # "\udcff"


def test_caption_mode_comparison_records_a_non_utf8_model_path_escaped(tmp_path: Path, walls: Path) -> None:
    """The caption-modes JSON copies the model record as the results JSON does: a model under
    $'\\xffrun' is written escaped (\\xff), not as a lone surrogate JSON cannot hold."""
    run = tmp_path / (BAD + "run")
    taco.save_checkpoint(taco.create_model("taco-tiny", seed=1), run / "checkpoint.safetensors")
    rc = main(["evaluate", str(walls), "-m", str(run), "--fid", "off", "--cmmd-clip", "off", "--no-plot",
               "--compare-caption-modes", "true,shuffled", "-o", str(tmp_path / "ev"), "--quiet"])
    assert rc == 0
    (written,) = (tmp_path / "ev").rglob("*.caption-modes.json")
    text = written.read_bytes().decode("utf-8")
    assert "\\\\xffrun" in text and "\\udcff" not in text
    assert "\\xffrun" in json.loads(text)["model"]["spec"]
