"""``taco plot`` overwrote its own figures in one run: each dataset's file name replaced every
character but letters and digits by ``-``, so datasets ``set.v2`` and ``set_v2`` (two folders
``taco evaluate`` keeps apart) both drew ``rd-set-v2.png``, the second over the first; and
``-o fig.v2`` wrote ``fig.png`` (the stem's ``.v2`` taken for a suffix). The names keep ``.``
and ``_`` now, the stem is kept whole, and two datasets that would still share a file (``a b``
and ``a/b``) are refused, naming both, before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taco.errors import TacoError
from taco.evaluation.plot import plot_results
from taco.evaluation.result_files import dataset_slug

POINT = {"setting": "q50", "images": 2, "bpp": 0.5, "psnr": 30.0}
RESULT = {"format": "taco-eval", "version": 1, "kind": "classic", "label": "JPEG", "codec": "jpeg",
          "dataset": {"name": "photos", "kind": "folder", "images": 2}, "points": [POINT]}


def _results(folder: Path, *datasets: str) -> Path:
    for i, ds in enumerate(datasets):
        (folder / str(i)).mkdir(parents=True)
        (folder / str(i) / "jpeg.json").write_text(json.dumps({**RESULT, "dataset": {**RESULT["dataset"], "name": ds}}))
    return folder


def test_datasets_apart_in_evaluate_are_drawn_apart(tmp_path):
    folder = _results(tmp_path / "res", "set.v2", "set_v2")
    written = plot_results(folder, tmp_path / "pl" / "rd", metrics=["psnr"], overwrite=False)
    assert sorted(p.name for p in written) == ["rd-set.v2.png", "rd-set.v2.svg", "rd-set_v2.png", "rd-set_v2.svg"]
    assert sorted(p.name for p in (tmp_path / "pl").iterdir()) == sorted(p.name for p in written)


@pytest.mark.parametrize(("out", "names"), [("fig.v2", ["fig.v2.png", "fig.v2.svg"]),
                                             ("fig.v2.png", ["fig.v2.png", "fig.v2.svg"]),
                                             ("fig.svg", ["fig.png", "fig.svg"])])
def test_a_dot_in_the_output_stem_is_kept(tmp_path, out, names):
    folder = _results(tmp_path / "res", "photos")
    written = plot_results(folder, tmp_path / out, metrics=["psnr"])
    assert sorted(p.name for p in written) == names


def test_two_datasets_on_one_file_are_refused_before_writing(eval_main, tmp_path, capsys):
    folder = _results(tmp_path / "res", "a b", "a/b")
    with pytest.raises(TacoError, match=r"datasets 'a b' and 'a/b' would both be drawn to .*rd-a-b\.png"):
        plot_results(folder, tmp_path / "pl" / "rd", metrics=["psnr"])
    assert not (tmp_path / "pl").exists()
    # -o pl/ (a folder given: made when missing; a stem's missing folder, pl/rd, is refused first)
    assert eval_main(["plot", str(folder), "-o", f"{tmp_path / 'pl'}/", "--metrics", "psnr"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'a b' and 'a/b'" in err[0], err
    assert not (tmp_path / "pl").exists()


def test_dataset_slug_matches_evaluate_folder_names():
    assert [dataset_slug(s) for s in ("set.v2", "set_v2", "my photos/2024", "--", "kodak")] == [
        "set.v2", "set_v2", "my-photos-2024", "dataset", "kodak"]


def test_datasets_differing_only_in_case_are_refused_on_every_system(tmp_path):
    """``rd-Kodak.png`` and ``rd-kodak.png`` are one file on macOS and Windows."""
    folder = _results(tmp_path / "res", "Kodak", "kodak")
    with pytest.raises(TacoError, match=r"datasets 'Kodak' and 'kodak' would both be drawn to .*rd-kodak\.png"):
        plot_results(folder, tmp_path / "pl" / "rd", metrics=["psnr"])
    assert not (tmp_path / "pl").exists()


@pytest.mark.parametrize("out", ["fig.pdf", "fig.JPG", "fig.jpeg", "fig.eps", "fig.tiff", "fig.webp", "fig.gif"])
def test_another_image_suffix_is_refused_not_made_a_stem(tmp_path, out):
    """``-o fig.pdf`` wrote fig.pdf.png, fig.pdf.svg and fig.pdf.bdrate.* unsaid."""
    folder = _results(tmp_path / "res", "photos")
    with pytest.raises(TacoError, match=r"fig\.\w+: taco plot writes PNG and SVG, not \.\w+: give a path stem "
                                        r"\(.*fig -> fig\.png, fig\.svg\)"):
        plot_results(folder, tmp_path / out, metrics=["psnr"])
    assert not list(tmp_path.glob("fig*"))


def test_the_plot_command_refuses_a_pdf_in_one_line(eval_main, tmp_path, capsys):
    folder = _results(tmp_path / "res", "photos")
    assert eval_main(["plot", str(folder), "-o", str(tmp_path / "fig.pdf"), "--metrics", "psnr"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "writes PNG and SVG, not .pdf: give a path stem" in err[0], err
    assert not list(tmp_path.glob("fig*"))
    # a folder of that name is a folder still: rd.png ... inside it
    (tmp_path / "figs.pdf").mkdir()
    assert sorted(p.name for p in plot_results(folder, tmp_path / "figs.pdf", metrics=["psnr"])) == ["rd.png", "rd.svg"]
