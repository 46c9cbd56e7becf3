"""``taco plot`` overwrote its outputs without a word, ./rd.png by default (a photo of that name
was replaced by the figure). It refuses existing outputs now, in one line before anything is
written, unless ``-f/--force``, as every command that writes files the user names. ``taco
evaluate`` still redraws the figure in its own output folder on every call, and the library's
``plot_results`` still overwrites unless told otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taco.evaluation.plot import OutputExists, plot_results

POINT = {"setting": "q50", "images": 2, "bpp": 0.5, "psnr": 30.0, "ms_ssim": 0.9, "lpips": 0.1}
JPEG = {"format": "taco-eval", "version": 1, "kind": "classic", "label": "JPEG", "codec": "jpeg",
        "dataset": {"name": "photos", "kind": "folder", "images": 2}, "points": [POINT]}
MODEL = {**JPEG, "kind": "learned", "label": "TACO", "codec": "taco",
         "points": [{**POINT, "setting": "", "bpp": 0.3, "psnr": 29.0}]}
PNG = b"\x89PNG\r\n\x1a\n"


def _results(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, result in (("taco.json", MODEL), ("jpeg.json", JPEG)):
        (folder / name).write_text(json.dumps(result))
    return folder


def test_plot_keeps_an_existing_rd_png_without_force(eval_main, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _results(tmp_path / "res")
    (tmp_path / "rd.png").write_bytes(b"a photo")
    assert eval_main(["plot", "res", "--metrics", "psnr", "--bootstrap", "0"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "taco plot: error: rd.png exists; pass --force to overwrite it"]
    assert (tmp_path / "rd.png").read_bytes() == b"a photo"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rd.png", "res"]  # nothing else written

    assert eval_main(["plot", "res", "--metrics", "psnr", "--bootstrap", "0", "-f"]) == 0
    assert (tmp_path / "rd.png").read_bytes().startswith(PNG)


def test_plot_names_every_existing_output(eval_main, tmp_path, capsys):
    folder = _results(tmp_path / "res")
    for name in ("fig.svg", "fig.bdrate.json"):
        (tmp_path / name).write_text("mine")
    argv = ["plot", str(folder), "-o", str(tmp_path / "fig"), "--metrics", "psnr", "--anchor", "JPEG",
            "--bootstrap", "0"]
    assert eval_main(argv) == 2
    assert capsys.readouterr().err.strip() == (
        f"taco plot: error: {tmp_path / 'fig.svg'}, {tmp_path / 'fig.bdrate.json'} exist; pass --force "
        "to overwrite them")
    assert not (tmp_path / "fig.png").exists()
    assert (tmp_path / "fig.svg").read_text() == "mine"


def test_plot_results_overwrites_unless_told_not_to(tmp_path):
    folder = _results(tmp_path / "res")
    (tmp_path / "rd.png").write_bytes(b"old")
    with pytest.raises(OutputExists) as info:
        plot_results(folder, tmp_path / "rd", metrics=["psnr"], overwrite=False)
    assert info.value.paths == [tmp_path / "rd.png"] and isinstance(info.value, FileExistsError)
    assert (tmp_path / "rd.png").read_bytes() == b"old"
    assert tmp_path / "rd.png" in plot_results(folder, tmp_path / "rd", metrics=["psnr"])
    assert (tmp_path / "rd.png").read_bytes().startswith(PNG)


def test_evaluate_redraws_its_own_figure(eval_main, tiny_folder, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["evaluate", str(tiny_folder), "--classic", "jpeg", "--qualities", "jpeg=30", "-o", str(out),
            "--limit", "1", "--fid", "off", "--cmmd-clip", "off", "--bootstrap", "0", "--quiet"]
    figure = out / tiny_folder.name / "rd.png"
    assert eval_main(argv) == 0
    figure.write_bytes(b"stale")
    capsys.readouterr()
    assert eval_main(argv) == 0  # resumed: nothing coded, the figure drawn again
    assert str(figure) in capsys.readouterr().out
    assert figure.read_bytes().startswith(PNG)
