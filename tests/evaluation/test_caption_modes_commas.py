"""``--compare-caption-modes`` is split at commas: a ``fixed:TEXT`` with a comma was refused as
"unknown caption mode 'on a sofa'", with no word of the split; the error says it and names
``--caption-mode``, which takes such a caption whole."""

from __future__ import annotations


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
