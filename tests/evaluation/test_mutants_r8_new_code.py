"""Mutation round 8 (the code written on 2026-12-06): what its survivors showed untested."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import taco
from taco.cli import main
from taco.data import check_image_folder
from taco.evaluation.plot import load_results
from taco.evaluation.runner import ResultsFileError, read_rows
from taco.models import CheckpointError
from taco.samples import SAMPLES_DIR
from taco.train.config import ConfigError, read_config_file

HEADER = "image,index,height,width,bytes,bpp\n"


def test_a_last_row_cut_inside_a_number_is_dropped_not_refused(tmp_path):
    # a kill while the row was written: its tail is repaired on resume, never a refusal
    path = tmp_path / "cut.csv"
    path.write_text(HEADER + "a.png,0,2,3,4,0.5\nb.png,1,2,3,4,1e", encoding="utf-8")
    assert [r["image"] for r in read_rows(path)] == ["a.png"]
    path.write_text(HEADER + "a.png,0,2,3,4,0.5\nb.png,1,2,3,4,1e\n", encoding="utf-8")  # ended: refused
    with pytest.raises(ResultsFileError, match=r"bpp of b\.png on line 3 is '1e'"):
        read_rows(path)


def test_a_long_bad_value_is_cut_in_the_refusal(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(HEADER + f"a.png,0,{'9x' * 250},3,4,0.5\n", encoding="utf-8")
    with pytest.raises(ResultsFileError) as caught:
        read_rows(path)
    assert "9x" * 20 in str(caught.value) and "9x" * 21 not in str(caught.value)


def test_bench_json_to_a_closed_stdout_is_refused_before_the_bench(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdout", None)
    image = str(SAMPLES_DIR / "skimage-chelsea.png")
    assert main(["bench", "--quick", "--images", image, "--json", "-"]) == 2
    assert "--json -: standard output is closed" in capsys.readouterr().err


def test_bench_says_where_it_wrote_its_json(tmp_path):
    from taco.bench.cli import write_result

    said: list[str] = []
    out = tmp_path / "b.json"
    write_result(SimpleNamespace(output=str(out)), {"a": 1}, said.append, "a table")  # type: ignore[arg-type]
    assert said == ["a table", f"wrote {out}"] and out.is_file()


def test_a_toml_syntax_error_is_not_called_a_huge_number(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("a = \n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_config_file(path)
    assert "not valid TOML" in str(caught.value) and "4,300 digits" not in str(caught.value)


def test_a_broken_link_of_the_sharded_index_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.symlink(tmp_path / "nothere", tmp_path / "m.safetensors.index.json")
    with pytest.raises(CheckpointError, match=r"m\.safetensors\.index\.json is a broken symbolic link"):
        taco.load("m.safetensors")


def test_check_image_folder_names_what_is_there(tmp_path):
    os.symlink(tmp_path / "gone", tmp_path / "dangling")
    with pytest.raises(NotADirectoryError, match=r"dangling: not a folder$"):
        check_image_folder(tmp_path / "dangling")
    (tmp_path / "IMG.PNG").write_bytes(b"x")  # suffixes in any case
    with pytest.raises(NotADirectoryError, match="an image file, not a folder of images"):
        check_image_folder(tmp_path / "IMG.PNG")


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


def test_a_file_starting_like_taco_magic_is_not_called_a_taco_file(tmp_path):
    path = tmp_path / "tacx.safetensors"
    path.write_bytes(b"TACX" + bytes(60))
    with pytest.raises(CheckpointError) as caught:
        taco.load(path)
    assert ".taco file" not in str(caught.value)
