"""``taco plot`` draws the text people give it (``--label``, ``--title``, a result's label and
dataset name) as typed: ``$\\foo{$`` is no mathtext for matplotlib to refuse with a traceback,
``$x$`` is not drawn as an italic x, and a label starting with ``_`` (matplotlib's mark of a
line left out of the legend) is in the legend. A point of a bpp of 0 (no coded file has 0
bytes; it cannot be on the log bpp axis) is a malformed result, refused in one line."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from taco.evaluation.plot import plot_results
from taco.evaluation.result_files import MalformedResult, read_result

POINT = {"setting": "q50", "images": 2, "bpp": 0.5, "psnr": 30.0, "ms_ssim": 0.9, "lpips": 0.1}
RESULT = {"format": "taco-eval", "version": 1, "kind": "classic", "label": "JPEG", "codec": "jpeg",
          "dataset": {"name": "photos", "kind": "folder", "images": 2}, "points": [POINT]}
MODEL = {**RESULT, "kind": "learned", "label": "TACO", "codec": "taco",
         "points": [{**POINT, "setting": "", "bpp": 0.3, "psnr": 29.0}]}


def _write(folder: Path, *results: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, result in enumerate(results):
        (folder / f"r{i}.json").write_text(json.dumps(result))
    return folder


def _svg_text(written: list[Path]) -> str:
    """The text drawn in the SVG (svg.fonttype none: text as text), without the comments in which
    matplotlib repeats each text as given (so mathtext drawn as glyphs is not found)."""
    svg = next(p for p in written if p.suffix == ".svg")
    return re.sub(r"<!--.*?-->", "", svg.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("label", ["$\\foo{$", "a $\\undefinedcmd$ b", "$x$", "_hidden", "100% & <b>"])
def test_a_label_is_drawn_as_typed(tmp_path, label):
    folder = _write(tmp_path / "res", {**MODEL, "label": label}, RESULT)
    written = plot_results(folder, tmp_path / "rd")
    assert sorted(p.name for p in written) == ["rd.png", "rd.svg"]
    assert escape(label) in _svg_text(written)  # in the legend, not parsed as mathtext, not left out


def test_a_dataset_name_and_a_title_are_drawn_as_typed(tmp_path):
    folder = _write(tmp_path / "res", {**RESULT, "dataset": {**RESULT["dataset"], "name": "$\\frac{1}{$"}})
    assert "Rate-distortion on $\\frac{1}{$: 2 images" in _svg_text(plot_results(folder, tmp_path / "rd"))
    svg = _svg_text(plot_results(folder, tmp_path / "titled", title="$\\sqrt{$ and $y$"))
    assert "$\\sqrt{$ and $y$" in svg


def test_the_plot_command_draws_a_mathtext_label(taco_main, tmp_path, capsys):
    folder = _write(tmp_path / "res", {**MODEL, "label": "$\\foo{$"})
    assert taco_main(["plot", str(folder), "-o", str(tmp_path / "rd"), "--title", "a $\\bar{$ b"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert "a $\\bar{$ b" in _svg_text([tmp_path / "rd.svg"])


@pytest.mark.parametrize("bpp", [0, 0.0, -0.0])
def test_a_point_of_no_bits_is_a_malformed_result(tmp_path, bpp):
    path = _write(tmp_path / "res", {**RESULT, "points": [POINT, {**POINT, "setting": "q1", "bpp": bpp}]}) / "r0.json"
    with pytest.raises(MalformedResult) as info:
        read_result(path)
    assert str(info.value).startswith(f"{path}: not a taco evaluation result (point 2 has a bpp of {bpp!r}, "
                                      "not a finite number above 0 or null")


def test_plot_refuses_points_of_no_bits_in_one_line(taco_main, tmp_path, capsys):
    folder = _write(tmp_path / "res", {**RESULT, "points": [{**POINT, "bpp": 0}]})
    assert taco_main(["plot", str(folder), "-o", str(tmp_path / "rd")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"taco plot: error: {folder / 'r0.json'}: not a taco evaluation result (point 1 has a bpp "
                     "of 0, not a finite number above 0 or null)"]
    assert not list(tmp_path.glob("rd*"))


@pytest.mark.parametrize("result, said", [
    ({**MODEL, "label": "T\udc80CO"}, "its label has a lone surrogate at character 2, U+DC80"),
    ({**MODEL, "dataset": {**RESULT["dataset"], "name": "ph\udcffotos"}}, "its dataset.name has a lone surrogate"),
    ({**MODEL, "points": [{**MODEL["points"][0], "setting": "\ud800"}]}, "its points[0].setting has a lone"),
    ({**MODEL, "dataset": {**RESULT["dataset"], "\udc80": 1}}, "a key of its dataset has a lone"),
])
def test_text_that_is_not_utf8_is_a_malformed_result(tmp_path, result, said):
    """An older run's label with a lone surrogate (a JSON \\udc80 escape) ended taco plot in
    matplotlib's traceback: refused in one line, naming the file and where."""
    folder = _write(tmp_path / "res", result, RESULT)
    with pytest.raises(MalformedResult) as raised:
        plot_results(folder, tmp_path / "rd")
    assert str(raised.value).startswith(f"{folder / 'r0.json'}: not a taco evaluation result ({said}")
    assert not (tmp_path / "rd.png").exists()
