"""``taco evaluate`` and ``taco plot`` refuse an output through a regular
file up front (before the work, before the figure is drawn), in ``taco compress``'s words, exit
2; ``taco plot -o missing/dir/x`` is refused as compress refuses ``-o missing/x.taco`` (a folder
given, ``-o DIR/``, is still made); a broken link given to plot is named as one."""

from __future__ import annotations

import os
import sys

import pytest

CAN_NOT = "cannot create the output folder"


def test_evaluate_refuses_an_output_through_a_file_before_torch_loads(tmp_path, taco_main, capsys,
                                                                   tiny_folder, monkeypatch):
    (tmp_path / "afile").write_text("x")
    monkeypatch.delitem(sys.modules, "taco.evaluation.evaluate", raising=False)
    out = tmp_path / "afile" / "x"
    assert taco_main(["evaluate", str(tiny_folder), "--classic", "jpeg", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"taco evaluate: error: {CAN_NOT} {out}: {tmp_path / 'afile'} is not a folder" in err, err
    assert "taco.evaluation.evaluate" not in sys.modules  # refused before the work (and torch)


@pytest.mark.parametrize(("output", "said"), [
    ("afile/x", "taco plot: error: afile is not a folder"),
    ("afile/x/", f"taco plot: error: {CAN_NOT} afile/x: {{tmp}}{os.sep}afile is not a folder"),
    ("missing/dir/x", "taco plot: error: folder missing/dir does not exist (create it first, or give a "
                      "folder ending with / to -o)"),
])
def test_plot_refuses_an_output_folder_it_cannot_write_before_drawing(
        tmp_path, taco_main, capsys, rd_folder, monkeypatch, output, said):
    results = rd_folder(tmp_path)
    (tmp_path / "afile").write_text("x")
    monkeypatch.chdir(tmp_path)
    assert taco_main(["plot", str(results), "-o", output]) == 2
    err = capsys.readouterr().err
    assert err.strip() == said.format(tmp=tmp_path), err
    assert not (tmp_path / "missing").exists()


def test_plot_makes_a_folder_given_with_a_slash(tmp_path, taco_main, capsys, rd_folder, monkeypatch):
    results = rd_folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert taco_main(["plot", str(results), "-o", "new/figs/", "--metrics", "psnr", "--bootstrap", "0"]) == 0
    assert (tmp_path / "new" / "figs" / "rd.png").is_file()


def test_plot_names_a_broken_link_as_one(tmp_path, taco_main, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.symlink("nowhere.json", "broken.json")
    assert taco_main(["plot", "broken.json"]) == 2
    assert capsys.readouterr().err.strip() == (
        "taco plot: error: broken.json is a broken symbolic link to 'nowhere.json', not a taco "
        "evaluation result")
