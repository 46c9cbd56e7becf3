"""``taco plot`` given a file by name that is not a result (not JSON, a safetensors file): it was
skipped as a JSON found in a folder is, so its curve was left out of the figure with exit 0 and no
word (or, named alone, "no taco-eval result JSONs with points" without the reason). A file named
is refused now, in one line naming it and saying why, as taco evaluate refuses it; in a folder
such a file is still skipped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from taco.evaluation.plot import load_results
from taco.evaluation.runner import ResultsFileError


def _broken_copy(folder):
    text = (folder / "webp.json").read_text(encoding="utf-8")
    broken = folder / "webp-broken.json"
    broken.write_text(text.replace("{", "{,", 1), encoding="utf-8")
    return broken


def test_a_named_file_that_is_no_result_is_refused(rd_folder, tmp_path):
    folder = rd_folder(tmp_path / "runs")
    broken = _broken_copy(folder)
    with pytest.raises(ResultsFileError, match=r"webp-broken\.json: not a taco evaluation result \("):
        load_results([folder / "jpeg.json", broken])
    model = tmp_path / "model.safetensors"
    model.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00\xff\xfe{}")
    with pytest.raises(ResultsFileError, match=r"model\.safetensors: not a taco evaluation result"):
        load_results([folder / "jpeg.json", model])
    assert len(load_results(folder)) == len(load_results([p for p in folder.glob("*.json") if p != broken]))


def test_the_command_says_why(eval_main, rd_folder, tmp_path, capsys):
    folder = rd_folder(tmp_path / "runs")
    broken = _broken_copy(folder)
    out = tmp_path / "fig" / "rd"
    # -o fig/: a folder given, made when missing (fig/rd's missing folder is refused first)
    assert eval_main(["plot", str(folder / "jpeg.json"), str(broken), "-o", f"{out.parent}/", "--reference",
                      "none"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"taco plot: error: {broken}: not a taco evaluation result ("), err
    assert not out.parent.exists()


def test_a_glob_of_a_results_folder_passes_over_its_bd_table_and_caption_mode_comparison(
        eval_main, rd_folder, tmp_path):
    # what `taco plot out/val/*.json` names after taco evaluate (and an earlier taco plot) wrote there
    folder = rd_folder(tmp_path / "runs")
    assert eval_main(["plot", str(folder), "-o", str(folder / "rd"), "--reference", "none", "--anchor", "JPEG"]) == 0
    assert (folder / "rd.bdrate.json").is_file()
    (folder / "taco-vr.caption-modes.json").write_text('{"modes": []}', encoding="utf-8")
    named = sorted(folder.glob("*.json"))
    assert folder / "rd.bdrate.json" in named
    assert len(load_results(named)) == len(load_results(folder))
    assert eval_main(["plot", *map(str, named), "-o", str(tmp_path / "fig"), "--reference", "none"]) == 0


def test_a_star_glob_of_an_evaluation_folder_passes_over_its_csvs_tables_and_figures(
        eval_main, rd_folder, tmp_path):
    # `taco plot OUT/DATASET/*`: the CSVs beside the results, the BD table and figures an earlier plot wrote
    folder = rd_folder(tmp_path / "runs")
    assert eval_main(["plot", str(folder), "-o", str(folder / "rd"), "--reference", "none", "--anchor", "JPEG"]) == 0
    named = sorted(p for p in folder.iterdir() if p.is_file())
    assert {p.suffix for p in named} >= {".csv", ".json", ".md", ".png", ".svg"}
    assert len(load_results(named)) == len(load_results(folder))
    other = tmp_path / "notes.txt"
    other.write_text("not a result", encoding="utf-8")
    with pytest.raises(ResultsFileError, match=r"notes\.txt: not a taco evaluation result"):
        load_results([*named, other])


def test_a_fifo_named_is_refused_as_such_without_opening_it(rd_folder, tmp_path):
    import os

    folder = rd_folder(tmp_path / "runs")
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(ResultsFileError, match=r"fifo\.json: not a regular file \(a pipe, a device or a socket\)"):
        load_results([folder / "jpeg.json", fifo])


def test_plot_names_a_link_as_typed_and_passes_over_upper_case_side_files(rd_folder, tmp_path, monkeypatch):
    folder = rd_folder(tmp_path / "runs")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "junk.txt").write_text("not json", encoding="utf-8")
    os.symlink("junk.txt", tmp_path / "res.json")
    with pytest.raises(ResultsFileError, match=r"^res\.json: not a taco evaluation result"):
        load_results([Path("res.json")])
    side = folder / "JPEG.PER-IMAGE.CSV"
    side.write_text("x\n", encoding="utf-8")
    assert len(load_results([folder / "jpeg.json", side])) == 1
