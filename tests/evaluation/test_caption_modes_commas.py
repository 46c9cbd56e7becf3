"""``--compare-caption-modes`` is split at commas: a ``fixed:TEXT`` with a comma was refused as
"unknown caption mode 'on a sofa'", with no word of the split; the error says it and names
``--caption-mode``, which takes such a caption whole. A ``fixed:TEXT`` holding a control
character (its run's label is printed in the summary and the tables) is refused in one line; one
holding a ``|`` stays in its cell of the caption-modes table."""

from __future__ import annotations

import pytest

from taco.evaluation.evaluate import CaptionMode, EvaluationError, format_comparison

HOSTILE = "fixed:x\x1b]0;p\x07\nFORGED"


def test_a_comma_in_a_fixed_caption_is_said(taco_main, tmp_path, capsys):
    code = taco_main(["evaluate", str(tmp_path), "--compare-caption-modes", "true,fixed:a cat, on a sofa",
                      "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("taco evaluate: error: --compare-caption-modes: unknown caption mode 'on a sofa'")
    assert "split at commas" in err and "--caption-mode 'fixed:TEXT'" in err
    assert not (tmp_path / "out").exists()


def test_modes_after_a_fixed_caption_pass(taco_main, tmp_path, capsys):
    code = taco_main(["evaluate", str(tmp_path), "--compare-caption-modes", "true,fixed:a cat,empty",
                      "-m", "elic-tiny", "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err.endswith(": no images found\n")  # the folder's error, not the modes'


@pytest.mark.parametrize("option, modes", [("--compare-caption-modes", f"true,{HOSTILE}"),
                                           ("--caption-mode", HOSTILE)])
def test_a_fixed_caption_with_control_characters_is_refused(taco_main, folder_factory, tmp_path, capsys,
                                                            option, modes):
    """It was coded and its label (``TACO [caption fixed:x<ESC>]0;p<BEL><LF>FORGED]``) printed
    as it is: the terminal's title set, a forged line in the summary and the tables."""
    folder = folder_factory(tmp_path / "photos")
    code = taco_main(["evaluate", str(folder), option, modes, "-m", "elic-tiny", "--fid", "off",
                      "--cmmd-clip", "off", "--quiet", "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err == ("taco evaluate: error: caption mode 'fixed:x\\x1b]0;p\\x07\\nFORGED': its text has a "
                   "control character at character 2, U+001B: give a caption of printable text on one line\n")
    assert not list((tmp_path / "out").rglob("*.json"))


def test_caption_mode_parse_refuses_a_line_break():
    with pytest.raises(EvaluationError, match="its text has a line separator at character 6, U\\+2028"):
        CaptionMode.parse("fixed:a cat\u2028FORGED")
    assert CaptionMode.parse("fixed:a cat | a dog").text == "a cat | a dog"  # printable: taken


@pytest.mark.parametrize("text", ["\u0e41\u0e21\u0e27\u200b\u0e1a\u0e19\u200b\u0e42\u0e0b\u0e1f\u0e32",  # Thai
                                  "\u0642\u0637\u0629 \u200f(\u0623\u0631\u064a\u0643\u0629)",  # Arabic, an RLM
                                  "\u200ea cat\u061c", "a\u2060cat\ufeff"])
def test_a_fixed_caption_of_any_script_with_its_marks_is_taken(text):
    """A Thai caption (its words broken by zero-width spaces) or an Arabic one holding an RLM
    was refused as a control character is ('its text has a zero width space at character 4')."""
    from taco.evaluation.defaults import caption_mode_problem

    assert caption_mode_problem(f"fixed:{text}") is None
    assert CaptionMode.parse(f"fixed:{text}").text == text


def test_a_fixed_caption_with_a_bidi_override_is_refused():
    """U+202E shows the rest of its line reversed: the run's label, in every summary line."""
    with pytest.raises(EvaluationError, match="its text has a right-to-left override at character 6, U\\+202E"):
        CaptionMode.parse("fixed:a cat\u202etac a")


def _comparison(mode: str, dataset: str = "photos") -> dict:
    na = {"n": 0}
    return {"reference": "true", "bootstrap": {"confidence": 0.95}, "model": {"tag": "taco-x-0123abcd"},
            "dataset": {"name": dataset, "crop": "none"},
            "modes": {mode: {"images": 2, "identical_files": 0, "bpp": na, "psnr": na, "ms_ssim": na,
                             "lpips": na}}}


def test_a_bar_in_a_fixed_caption_stays_in_its_cell():
    """``--compare-caption-modes "true,fixed:a cat | a dog"`` printed ``| fixed:a cat | a dog | 2 |
    0 | ...``: every number under the heading after its own."""
    lines = format_comparison(_comparison("fixed:a cat | a dog")).splitlines()
    head, row = lines[4], lines[6]
    assert row == "| fixed:a cat \\| a dog | 2 | 0 | n/a | n/a | n/a | n/a |"
    assert row.replace("\\|", "").count("|") == head.count("|")


def test_the_comparison_shows_a_folders_control_characters():
    text = format_comparison(_comparison("shuffled", dataset="ph\x1b]0;p\x07\notos"))
    assert text.splitlines()[0] == "# Caption modes of taco-x-0123abcd on ph\\x1b]0;p\\x07\\notos"
    assert "\x1b" not in text
