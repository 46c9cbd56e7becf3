"""``taco plot`` draws the text people give it (``--label``, ``--title``, a result's label and
dataset name) as typed: ``$\\foo{$`` is no mathtext for matplotlib to refuse with a traceback,
``$x$`` is not drawn as an italic x, and a label starting with ``_`` (matplotlib's mark of a
line left out of the legend) is in the legend. A point of a bpp of 0 (no coded file has 0
bytes; it cannot be on the log bpp axis) is a malformed result, refused in one line. A label an
older taco wrote with a tab, a control character or a bidi mark is read as written and shown
escaped in the BD table (where an ESC drove the terminal and a line feed forged a line) and in
the figure (where an ESC made rd.svg invalid XML), as is a dataset's name or an output's path
holding one."""

from __future__ import annotations

import json
import re
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from taco.evaluation.bdrate import format_bd_table, markdown_cell
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


#: Labels that taco before 6bf5360 wrote as given (``--label``), each as the BD table's row shows it.
OLD_LABELS = {
    "TACO\t(ours)": "TACO\\t(ours)",
    "\u0646\u0645\u0648\u0630\u062c \u0639\u0631\u0628\u064a \u200f(RTL)":  # Arabic, an RLM: as it is
        "\u0646\u0645\u0648\u0630\u062c \u0639\u0631\u0628\u064a \u200f(RTL)",
    "\u0e20\u0e32\u0e29\u0e32\u200b\u0e44\u0e17\u0e22": "\u0e20\u0e32\u0e29\u0e32\u200b\u0e44\u0e17\u0e22",  # Thai
    "L\x1b[31mab\nFORGED": "L\\x1b[31mab\\nFORGED",
    "TACO\u2029x \u202eRLO": "TACO\\u2029x \\u202eRLO",
}


@pytest.mark.parametrize("label", OLD_LABELS, ids=["tab", "RLM", "ZWSP", "ESC and LF", "U+2029 and RLO"])
def test_an_older_result_s_label_is_read_and_plotted_shown_escaped(taco_main, tmp_path, capsys, label):
    """Since 6bf5360 read_result refused a label a line would show escaped: results of an
    earlier taco labelled ``--label "TACO<TAB>(ours)"`` or in Arabic with an RLM could no longer
    be plotted ('not a taco evaluation result (its label has a right-to-left mark at character
    12, U+200F)', exit 2). They are read as written, and the BD table (stdout and
    rd.bdrate.md) shows the label on its row, a control character or override escaped."""
    model = {**MODEL, "label": label, "points": [{**MODEL["points"][0], "bpp": b, "psnr": q}
                                                 for b, q in ((0.3, 29.0), (0.8, 33.5))]}
    jpeg = {**RESULT, "points": [POINT, {**POINT, "setting": "q80", "bpp": 1.0, "psnr": 33.0}]}
    folder = _write(tmp_path / "res", model, jpeg)
    assert read_result(folder / "r0.json")["label"] == label
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        assert taco_main(["plot", str(folder), "-o", str(tmp_path / "rd"), "--metrics", "psnr",
                          "--bootstrap", "0"]) == 0
    captured = capsys.readouterr()
    # the figure shows the label as the table does: drawn raw, a tab was a missing glyph, an ESC
    # made rd.svg invalid XML
    svg_text = "".join(ET.parse(tmp_path / "rd.svg").getroot().itertext())
    assert OLD_LABELS[label] in svg_text
    assert not [w for w in warned if re.match(r"Glyph (\d|[12]\d|3[01]|12[7-9]|1[3-5]\d) ", str(w.message))]
    row = f"| {OLD_LABELS[label]} | "
    md = (tmp_path / "rd.bdrate.md").read_text(encoding="utf-8")
    for text in (captured.out, md):
        assert [line for line in text.splitlines() if line.startswith(row)] != [], text
        assert not any(c in text for c in "\t\x1b\u2029\u202e") and "\nFORGED" not in text
    assert json.loads((tmp_path / "rd.bdrate.json").read_text(encoding="utf-8"))  # the labels as given
    assert sorted(p.name for p in tmp_path.glob("rd*")) == ["rd.bdrate.json", "rd.bdrate.md", "rd.png", "rd.svg"]
    assert "error" not in captured.err


def test_a_matched_to_label_with_a_control_character_is_read(tmp_path):
    matched = {**RESULT, "kind": "classic-matched", "label": "JPEG @ T\x9bACO bpp", "matched_to_label": "T\x9bACO",
               "matched_to": "taco.json"}
    folder = _write(tmp_path / "res", matched)
    assert read_result(folder / "r0.json")["matched_to_label"] == "T\x9bACO"


def test_the_bd_table_shows_control_characters_escaped():
    """format_bd_table's rows and notes (a library caller's labels, read_result does not check)
    are one line each, a control character written as shown_path writes it."""
    nan = float("nan")
    row = {"psnr": {"bd_rate": nan, "reason": "too few points", "bd_metric": nan,
                    "bd_metric_reason": "too few points", "images_differ": "L\x1b[31mab\nFORGED 6, A 8"}}
    text = format_bd_table({"L\x1b[31mab\nFORGED | x": row}, "A\x1b]0;p\x07")
    assert "\x1b" not in text and "\nFORGED" not in text
    lines = text.splitlines()
    assert lines[0].startswith("Anchor: **A\\x1b]0;p\\x07**. BD-rate < 0")
    assert lines[4] == "| L\\x1b[31mab\\nFORGED \\| x | n/a | n/a |"
    assert "- L\\x1b[31mab\\nFORGED | x, psnr: too few points" in lines
    assert markdown_cell("a\\|b\tc") == "a\\\\\\|b\\tc"


def test_plot_shows_a_dataset_and_an_output_with_control_characters_escaped(taco_main, tmp_path, capsys):
    """The BD table's heading (``# BD-rate on DATASET``, in the file and on stdout) and the
    ``wrote:`` lines (``-o "$(printf 'rd\\e]0;pwned\\a')"``) printed them raw."""
    dataset = {**RESULT["dataset"], "name": "ph\x1b]0;pwned\x07otos"}
    folder = _write(tmp_path / "res", {**MODEL, "dataset": dataset}, {**RESULT, "dataset": dataset})
    stem = tmp_path / "rd\x1b]0;pwned\x07"
    assert taco_main(["plot", str(folder), "-o", str(stem), "--metrics", "psnr", "--bootstrap", "0"]) == 0
    out = capsys.readouterr().out
    shown = f"{tmp_path}/rd\\x1b]0;pwned\\x07"
    assert out.splitlines()[0] == "# BD-rate on ph\\x1b]0;pwned\\x07otos"
    assert out.splitlines()[-5:] == ["wrote:", *(f"  {shown}{s}" for s in (".png", ".svg", ".bdrate.md", ".bdrate.json"))]
    assert "\x1b" not in out
    md = Path(f"{stem}.bdrate.md").read_text(encoding="utf-8")
    assert md.startswith("# BD-rate on ph\\x1b]0;pwned\\x07otos\n") and "\x1b" not in md
    heading = "Rate-distortion on ph\\x1b]0;pwned\\x07otos: 2 images"  # the figure's, as the table's
    assert heading in "".join(ET.parse(f"{stem}.svg").getroot().itertext())
