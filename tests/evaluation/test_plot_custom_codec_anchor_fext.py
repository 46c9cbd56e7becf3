"""A classic codec of the user's own (a ``taco.evaluation.classic.ClassicCodec`` named ``jpeg444``,
evaluated beside JPEG) became the default BD-rate anchor ahead of JPEG: the legend's order put a
codec outside JPEG, WebP, AVIF, BPG, VTM before all of them, while ``taco plot --help`` and
docs/evaluation.md say the anchor is the first of JPEG, WebP, AVIF, BPG, VTM. Now an unknown codec
comes after the known ones, in the legend and for the anchor."""

from __future__ import annotations

import json

import pytest

import taco.cli
from taco.evaluation.plot import collect_curves, default_anchor


def _result(label: str, kind: str, codec: str, scale: float) -> dict:
    points = [{"setting": f"q{q}", "bpp": b * scale, "psnr": p}
              for q, b, p in [(20, 0.4, 28.0), (50, 0.8, 31.0), (80, 1.5, 34.0)]]
    return {"format": "taco-eval", "version": 1, "kind": kind, "label": label, "codec": codec,
            "dataset": {"name": "val", "kind": "folder", "images": 4, "crop": "none"}, "points": points}


def test_a_custom_codec_is_not_the_anchor_ahead_of_jpeg():
    custom = _result("JPEG 4:4:4", "classic", "jpeg444", 1.1)
    jpeg = _result("JPEG", "classic", "jpeg", 1.0)
    avif = _result("AVIF", "classic", "avif", 0.7)
    for order in ([custom, jpeg], [jpeg, custom], [custom, avif, jpeg]):
        assert default_anchor(collect_curves(order)["val"]) == "JPEG"
    assert default_anchor(collect_curves([custom, avif])["val"]) == "AVIF"
    # with no known codec, a custom one still anchors the table (by label)
    other = _result("HEIF", "classic", "heif", 0.9)
    assert default_anchor(collect_curves([custom, other])["val"]) == "HEIF"


def test_taco_plot_anchors_on_jpeg_beside_a_custom_codec(tmp_path, monkeypatch, capsys):
    pytest.importorskip("bjontegaard")
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    folder = tmp_path / "val"
    folder.mkdir()
    for r in (_result("TACO", "learned", "taco", 0.5), _result("JPEG 4:4:4", "classic", "jpeg444", 1.1),
              _result("JPEG", "classic", "jpeg", 1.0)):
        (folder / f"{r['codec']}.json").write_text(json.dumps(r))
    assert taco.cli.main(["plot", str(folder), "-o", str(tmp_path / "rd"), "--bootstrap", "0"]) == 0
    assert "Anchor: **JPEG**" in capsys.readouterr().out
    assert json.loads((tmp_path / "rd.bdrate.json").read_text())["anchor"] == "JPEG"


def test_the_legend_lists_a_custom_codec_after_the_known_ones(tmp_path, monkeypatch):
    import matplotlib.figure

    from taco.evaluation.plot import plot_results

    folder = tmp_path / "val"
    folder.mkdir()
    for r in (_result("JPEG 4:4:4", "classic", "jpeg444", 1.1), _result("WebP", "classic", "webp", 0.8),
              _result("TACO", "learned", "taco", 0.5), _result("JPEG", "classic", "jpeg", 1.0)):
        (folder / f"{r['codec']}.json").write_text(json.dumps(r))
    seen: list[list[str]] = []
    legend = matplotlib.figure.Figure.legend

    def record(self, handles, labels, *args, **kwargs):
        seen.append(list(labels))
        return legend(self, handles, labels, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "legend", record)
    plot_results(folder, tmp_path / "rd", metrics=["psnr"], bootstrap=0)
    assert seen == [["TACO", "JPEG", "WebP", "JPEG 4:4:4"]], seen
