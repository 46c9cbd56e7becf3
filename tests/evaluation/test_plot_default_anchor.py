"""``taco plot`` without ``--anchor`` writes the BD table ``taco evaluate`` would: against the first
classic codec with results (taco.evaluation.plot.default_anchor). It wrote none, so ``taco evaluate
--no-plot`` then ``taco plot DIR`` (its help: "taco plot does both from the results later") gave
no table. A classic codec of the user's own (a ClassicCodec named ``jpeg444``) comes after JPEG,
WebP, AVIF, BPG and VTM, in the legend and for the anchor, as ``taco plot --help`` and
docs/evaluation.md say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import taco.cli
from taco.evaluation.plot import Curve, collect_curves, default_anchor, find_anchor


def _result(label: str, kind: str, codec: str, scale: float) -> dict:
    points = [{"setting": f"q{q}", "bpp": b * scale, "psnr": p}
              for q, b, p in [(20, 0.4, 28.0), (50, 0.8, 31.0), (80, 1.5, 34.0)]]
    return {"format": "taco-eval", "version": 1, "kind": kind, "label": label, "codec": codec,
            "dataset": {"name": "val", "kind": "folder", "images": 4, "crop": "none"}, "points": points}


def _folder(root: Path, *results: dict) -> Path:
    root.mkdir()
    for r in results:
        (root / f"{r['codec']}.json").write_text(json.dumps(r))
    return root


def test_the_first_classic_codec_in_legend_order_is_the_anchor(tmp_path):
    webp, jpeg = _result("WebP", "classic", "webp", 0.8), _result("JPEG", "classic", "jpeg", 1.0)
    model = _result("TACO", "learned", "taco", 0.5)
    assert default_anchor(collect_curves([model, webp, jpeg])["val"]) == "JPEG"
    assert default_anchor(collect_curves([model, webp])["val"]) == "WebP"
    assert default_anchor(collect_curves([model])["val"]) is None


def test_taco_plot_writes_the_table_against_the_default_anchor(tmp_path, monkeypatch, capsys):
    pytest.importorskip("bjontegaard")
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    folder = _folder(tmp_path / "val", _result("TACO", "learned", "taco", 0.5),
                     _result("WebP", "classic", "webp", 0.8), _result("JPEG", "classic", "jpeg", 1.0))
    assert taco.cli.main(["plot", str(folder), "-o", str(tmp_path / "rd")]) == 0
    assert "Anchor: **JPEG**" in capsys.readouterr().out
    assert json.loads((tmp_path / "rd.bdrate.json").read_text())["anchor"] == "JPEG"

    only_models = _folder(tmp_path / "models", _result("TACO", "learned", "taco", 0.5))
    assert taco.cli.main(["plot", str(only_models), "-o", str(tmp_path / "m")]) == 0
    assert not (tmp_path / "m.bdrate.md").exists()  # no classic codec: no table, as evaluate


def test_evaluate_and_plot_write_the_same_table(tmp_path, monkeypatch, tiny_folder):
    pytest.importorskip("bjontegaard")
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    out = tmp_path / "out"
    assert taco.cli.main(["evaluate", str(tiny_folder), "--classic", "webp", "--qualities", "webp=20,80",
                          "--fid", "off", "--cmmd-clip", "off", "--bootstrap", "0", "-o", str(out),
                          "--quiet", "--no-plot"]) == 0
    assert taco.cli.main(["evaluate", str(tiny_folder), "--classic", "jpeg", "--qualities", "jpeg=20,80",
                          "--fid", "off", "--cmmd-clip", "off", "--bootstrap", "0", "-o", str(out),
                          "--quiet"]) == 0
    folder = out / "photos"
    assert taco.cli.main(["plot", str(folder), "-o", str(tmp_path / "rd"), "--bootstrap", "0"]) == 0
    by_evaluate = json.loads((folder / "rd.bdrate.json").read_text())
    by_plot = json.loads((tmp_path / "rd.bdrate.json").read_text())
    assert by_evaluate["anchor"] == by_plot["anchor"] == "JPEG"
    assert by_evaluate["table"] == by_plot["table"]


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


def test_an_anchor_matching_two_curves_ignoring_case_asks_for_the_exact_label():
    curves = [Curve("Ours", "learned", ""), Curve("OURS", "learned", ""), Curve("JPEG", "classic", "jpeg")]
    with pytest.raises(ValueError) as e:
        find_anchor("ours", "val", curves)
    assert str(e.value) == "--anchor 'ours' matches both 'OURS' and 'Ours' on val (ignoring case): give the exact label"
    assert find_anchor("Ours", "val", curves) == "Ours" and find_anchor("jpeg", "val", curves) == "JPEG"


def test_evaluate_anchors_on_jpeg_before_avif_as_plot_does(tmp_path, monkeypatch, tiny_folder):
    """``--classic avif,jpeg`` anchored evaluate's table on AVIF (the first named) while ``taco
    plot`` of the same folder anchored on JPEG: evaluate picks by plot's rule among its codecs."""
    pytest.importorskip("bjontegaard")
    from taco.evaluation.classic import CodecUnavailable, get_codec

    try:
        get_codec("avif")
    except CodecUnavailable as exc:
        pytest.skip(str(exc))
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    out = tmp_path / "out"
    assert taco.cli.main(["evaluate", str(tiny_folder), "--classic", "avif,jpeg", "--qualities",
                          "avif=30,70", "--qualities", "jpeg=20,80", "--limit", "1", "--fid", "off",
                          "--cmmd-clip", "off", "--bootstrap", "0", "-o", str(out), "--quiet"]) == 0
    folder = out / "photos"
    assert taco.cli.main(["plot", str(folder), "-o", str(tmp_path / "rd"), "--bootstrap", "0"]) == 0
    by_evaluate = json.loads((folder / "rd.bdrate.json").read_text())
    by_plot = json.loads((tmp_path / "rd.bdrate.json").read_text())
    assert by_evaluate["anchor"] == by_plot["anchor"] == "JPEG"
