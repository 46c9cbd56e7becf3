"""A model's curve took the palette's colours in the order of its own figure's curves, so with
several datasets in one ``taco plot`` a label could be blue in one figure and cyan in the next
(a caption-mode run that joins one dataset's curves shifts the others). One palette serves
every figure of a call now: a label keeps its colour in each."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.figure

from taco.evaluation.plot import plot_results

POINT = {"setting": "q1", "images": 2, "bpp": 0.5, "psnr": 30.0}


def _result(folder: Path, dataset: str, label: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{label}.json").write_text(json.dumps({
        "format": "taco-eval", "version": 1, "kind": "learned", "label": label, "codec": "taco",
        "dataset": {"name": dataset, "kind": "folder", "images": 2}, "points": [POINT]}))


def _legend_colours(monkeypatch) -> list[dict[str, str]]:
    """Each figure's legend as {label: colour}, in drawing order, filled as figures are drawn."""
    seen: list[dict[str, str]] = []
    legend = matplotlib.figure.Figure.legend

    def record(self, handles, labels, *args, **kwargs):
        seen.append({lab: h.get_color() for h, lab in zip(handles, labels, strict=True)})
        return legend(self, handles, labels, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "legend", record)
    return seen


def test_a_label_has_one_colour_in_every_figure(tmp_path, monkeypatch):
    for label in ("Ours", "ZBase"):
        _result(tmp_path / "res" / "a", "a", label)
    for label in ("AAA", "Ours", "ZBase"):  # AAA comes first in b's legend
        _result(tmp_path / "res" / "b", "b", label)
    seen = _legend_colours(monkeypatch)
    written = plot_results(tmp_path / "res", tmp_path / "pl" / "rd", metrics=["psnr"])
    assert len(written) == 4 and len(seen) == 2, (written, seen)
    one, two = seen
    assert one["Ours"] == two["Ours"] and one["ZBase"] == two["ZBase"], seen
    assert len({two["AAA"], two["Ours"], two["ZBase"]}) == 3, seen


def test_two_curves_of_one_figure_never_share_a_colour_while_one_is_free(tmp_path, monkeypatch):
    """Six models in one figure use the whole learned palette, so a seventh label met in the next
    figure wrapped to the first colour, which that figure's other model had: two blue curves of
    two. It takes the next colour free in its own figure; the first keeps its colour."""
    labels = ("A1", "A2", "A3", "A4", "A5", "A6")
    for label in labels:
        _result(tmp_path / "res" / "a", "a", label)
    for label in ("A1", "B7"):
        _result(tmp_path / "res" / "b", "b", label)
    seen = _legend_colours(monkeypatch)
    plot_results(tmp_path / "res", tmp_path / "pl" / "rd", metrics=["psnr"], reference="none")
    one, two = seen
    assert len(set(one.values())) == len(labels), seen
    assert two["A1"] == one["A1"] and two["B7"] != two["A1"], seen
