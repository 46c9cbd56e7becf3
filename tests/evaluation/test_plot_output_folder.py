"""``taco plot RESULTS -o .`` (and ``-o /``) crashed with a traceback (``PosixPath('.') has an
empty name``), as ``plot_results(..., '.')`` did with a bare ValueError; ``-o figs/`` (a folder
that exists) wrote ``figs.png`` beside the folder, ``-o ..`` files named ``...png``, and
``-o rd.PNG`` gave ``rd.PNG.png``. An output that is a folder (one that exists, a name ending
with ``/``, or ``.``, ``..``, ``""``) now means ``rd.png`` ... inside it, as ``taco plot``
without ``-o``, and the ``.png`` / ``.svg`` suffix is matched in any case."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from taco.evaluation.plot import plot_results

POINT = {"setting": "q50", "images": 2, "bpp": 0.5, "psnr": 30.0}
RESULT = {"format": "taco-eval", "version": 1, "kind": "classic", "label": "JPEG", "codec": "jpeg",
          "dataset": {"name": "photos", "kind": "folder", "images": 2}, "points": [POINT]}
DRAWN = ["rd.png", "rd.svg"]


def _results(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "jpeg.json").write_text(json.dumps(RESULT))
    return folder


def _names(written: list[Path]) -> list[str]:
    return sorted(p.name for p in written)


@pytest.mark.parametrize("out", [".", "", "./"])
def test_the_current_folder_draws_rd_there(tmp_path, monkeypatch, out):
    results = _results(tmp_path / "res")
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    written = plot_results(results, out, metrics=["psnr"])
    assert _names(written) == DRAWN
    assert sorted(os.listdir(".")) == DRAWN


def test_dot_dot_draws_in_the_parent(tmp_path, monkeypatch):
    results = _results(tmp_path / "res")
    (tmp_path / "up" / "here").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "up" / "here")
    plot_results(results, "..", metrics=["psnr"])
    assert sorted(p.name for p in (tmp_path / "up").iterdir()) == ["here", *DRAWN]


@pytest.mark.parametrize("slash", ["", "/"])
def test_a_folder_that_exists_is_drawn_into(tmp_path, slash):
    results = _results(tmp_path / "res")
    (tmp_path / "figs").mkdir()
    written = plot_results(results, str(tmp_path / "figs") + slash, metrics=["psnr"])
    assert written == [tmp_path / "figs" / n for n in DRAWN]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figs", "res"]


def test_a_new_name_ending_with_a_slash_is_a_folder(tmp_path):
    results = _results(tmp_path / "res")
    written = plot_results(results, f"{tmp_path / 'new'}/", metrics=["psnr"])
    assert written == [tmp_path / "new" / n for n in DRAWN]


@pytest.mark.parametrize("out", ["rd.PNG", "rd.Svg", "rd.png"])
def test_the_suffix_is_matched_in_any_case(tmp_path, out):
    results = _results(tmp_path / "res")
    assert _names(plot_results(results, tmp_path / out, metrics=["psnr"])) == DRAWN


def test_the_cli_draws_into_the_current_folder(taco_main, tmp_path, monkeypatch, capsys):
    results = _results(tmp_path / "res")
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    assert taco_main(["plot", str(results), "-o", ".", "--metrics", "psnr"]) == 0
    assert sorted(os.listdir(".")) == ["rd.bdrate.json", "rd.bdrate.md", *DRAWN]  # JPEG: the anchor
    capsys.readouterr()
    assert taco_main(["plot", str(results), "-o", ".", "--metrics", "psnr"]) == 2  # exists: one line
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "rd.png" in err[0] and "--force" in err[0], err


def test_help_and_docs_say_a_folder_is_drawn_into(taco_main, capsys):
    with pytest.raises(SystemExit):
        taco_main(["plot", "--help"])
    assert "a folder to write those into" in " ".join(capsys.readouterr().out.split())
    docs = (Path(__file__).parents[2] / "docs" / "evaluation.md").read_text(encoding="utf-8")
    assert "writes `DIR/rd.png`" in docs


ROOT = Path(__file__).resolve().parents[2]


def test_plot_with_stdout_closed_writes_its_files_as_compress_does(tmp_path, rd_folder):
    results = rd_folder(tmp_path)
    r = subprocess.run([sys.executable, "-m", "taco", "plot", str(results), "-o", f"{tmp_path / 'figs'}/",
                        "--metrics", "psnr", "--bootstrap", "0"],
                       stdout=None, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                       preexec_fn=lambda: os.close(1), timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"})
    assert r.returncode == 0 and r.stderr == b"", r.stderr
    table = (tmp_path / "figs" / "rd.bdrate.md").read_text(encoding="utf-8")
    assert "BD-rate" in table  # what it would have printed is in its file
    assert json.loads((tmp_path / "figs" / "rd.bdrate.json").read_text(encoding="utf-8"))
    assert (tmp_path / "figs" / "rd.png").is_file()
