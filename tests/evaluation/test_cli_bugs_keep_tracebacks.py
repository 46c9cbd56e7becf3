"""``taco plot`` and ``taco caption`` print a user's mistake as one line (exit status 2) and let a
bug keep its traceback: they caught every ValueError, so a ValueError from a bug in numpy,
matplotlib or the BD-rate code was printed as if the user had erred. The library's mistakes are
TacoErrors (bad argument values :class:`taco.errors.TacoValueError`) or OSErrors naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taco.errors import TacoError, TacoValueError


def _result(label: str, kind: str, points: list[dict]) -> dict:
    return {"format": "taco-eval", "version": 1, "kind": kind, "label": label, "codec": label.lower(),
            "dataset": {"name": "val", "kind": "folder", "images": 3, "crop": "none"},
            "set_metrics": {}, "points": points}


@pytest.fixture
def results(tmp_path: Path) -> Path:
    folder = tmp_path / "results"
    folder.mkdir()
    jpeg = [{"setting": f"q{q}", "bpp": b, "psnr": p} for q, b, p in ((20, 0.4, 28.0), (50, 0.8, 31.0),
                                                                      (80, 1.5, 34.0))]
    for name, data in {"jpeg.json": _result("JPEG", "classic", jpeg),
                       "webp.json": _result("WebP", "classic", [{**p, "bpp": 0.8 * p["bpp"]} for p in jpeg])
                       }.items():
        (folder / name).write_text(json.dumps(data))
    return folder


def _one_line(capsys, command: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"taco {command}: error: "), err
    return err[0]


def test_a_bug_inside_plot_keeps_its_traceback(taco_main, results, tmp_path, monkeypatch, capsys):
    from taco.evaluation import plot

    def broken_bd_table(*args, **kwargs):
        raise ValueError("bug")

    monkeypatch.setattr(plot, "bd_table", broken_bd_table)
    with pytest.raises(ValueError, match="^bug$") as caught:
        taco_main(["plot", str(results), "-o", str(tmp_path / "rd"), "--anchor", "JPEG", "--bootstrap", "0"])
    assert not isinstance(caught.value, TacoError)
    assert "error" not in capsys.readouterr().err  # not printed as a one-line user mistake


def test_a_bug_inside_caption_keeps_its_traceback(taco_main, tmp_path, monkeypatch, capsys):
    from taco.evaluation import caption_plan

    def broken_plan(*args, **kwargs):
        raise ValueError("bug")

    monkeypatch.setattr(caption_plan, "plan_captions", broken_plan)
    with pytest.raises(ValueError, match="^bug$"):
        taco_main(["caption", str(tmp_path), "--quiet"])
    assert "error" not in capsys.readouterr().err


@pytest.mark.parametrize(("arguments", "says"), [
    (["--anchor", "FOO"], "--anchor 'FOO' is none of the curves on val: JPEG, WebP"),
    (["--metrics", "psnr,bogus"], "unknown metric bogus; the metrics are: psnr, ms_ssim, lpips, fid, cmmd"),
    (["--reference", "mars"], "no reference points for ['mars']; have ['coco30k', 'kodak']"),
])
def test_a_mistake_in_plots_options_is_still_one_line(taco_main, results, tmp_path, capsys, arguments, says):
    assert taco_main(["plot", str(results), "-o", str(tmp_path / "rd"), *arguments]) == 2
    assert _one_line(capsys, "plot") == f"taco plot: error: {says}"


def test_a_missing_path_is_still_one_line_that_names_it_as_given(taco_main, results, tmp_path, monkeypatch, capsys):
    """The path keeps its capitals (an OSError's line lowercases the first letter of a message
    without a file name)."""
    monkeypatch.chdir(tmp_path)
    assert taco_main(["plot", "results", "Missing/run.json", "-o", "rd"]) == 2
    assert _one_line(capsys, "plot") == "taco plot: error: Missing/run.json: no such file or folder"
    assert taco_main(["caption", "Photos", "--quiet"]) == 2
    assert _one_line(capsys, "caption") == "taco caption: error: Photos: no such folder"
    (tmp_path / "Notes.txt").write_text("x")
    assert taco_main(["caption", "Notes.txt", "--quiet"]) == 2
    assert _one_line(capsys, "caption") == ("taco caption: error: Notes.txt: not a folder (give the "
                                            "folder of the images)")


def test_a_results_csv_cell_that_is_no_number_is_one_line_naming_the_csv(taco_main, rd_run, tmp_path, capsys):
    """A per-image value that is not a number was float()'s ValueError ("could not convert
    string to float"), which no longer reads as a user's mistake."""
    write_rd_run, synthetic_rd_rows = rd_run
    folder = tmp_path / "val"
    for codec, label, bits in (("jpeg", "JPEG", 1.6), ("webp", "WebP", 1.3)):
        write_rd_run(folder, codec, label=label, kind="classic", codec=codec,
                     rows=synthetic_rd_rows(bits, [0.1, 0.2, 0.4, 0.8, 1.6], n=6))
    csv = folder / "webp.csv"
    lines = csv.read_text().splitlines()
    column = lines[0].split(",").index("psnr")
    cells = lines[1].split(",")
    cells[column] = "n/a"
    csv.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    assert taco_main(["plot", str(folder), "-o", str(tmp_path / "rd"), "--anchor", "JPEG",
                      "--bootstrap", "20"]) == 2
    assert _one_line(capsys, "plot") == (f"taco plot: error: {csv}: not a taco results CSV (psnr of "
                                         "img00.png on line 2 is 'n/a', not a number)")


def _losses_rd(lmbda):
    from taco.losses import RateDistortionLoss

    return RateDistortionLoss(lmbda=lmbda)


def _plan(limit):
    from taco.evaluation.caption_plan import plan_captions

    return plan_captions(".", limit=limit)


def _similarity():
    pytest.importorskip("torch")
    from taco.evaluation.caption import text_similarity

    return text_similarity(["a"], [])


def _bd_table():
    from taco.evaluation.bdrate import bd_table

    return bd_table({"JPEG": []}, "WebP")


def _bootstrap():
    from taco.evaluation.stats import paired_bootstrap

    return paired_bootstrap([1.0, 2.0], [1.0])


def _min_pairs():
    from taco.evaluation.stats import min_pairs

    return min_pairs(1.5)


def _plot(tmp_path):
    from taco.evaluation.plot import plot_results

    return plot_results(tmp_path, tmp_path / "rd", metrics=["bogus"])


@pytest.mark.parametrize(("call", "says"), [
    (lambda tmp_path: _losses_rd(-1), "lmbda must be positive, got -1"),
    (lambda tmp_path: _plan(0), "limit must be at least 1, got 0"),
    (lambda tmp_path: _similarity(), "need one reference per candidate"),
    (lambda tmp_path: _bd_table(), "anchor 'WebP' is not one of the curves"),
    (lambda tmp_path: _bootstrap(), "paired samples must be 1-D of equal length"),
    (lambda tmp_path: _min_pairs(), r"confidence must be in \(0, 1\), got 1.5"),
    (_plot, "unknown metric bogus"),
], ids=["RateDistortionLoss", "plan_captions", "text_similarity", "bd_table", "paired_bootstrap",
        "min_pairs", "plot_results"])
def test_the_librarys_bad_argument_values_are_taco_value_errors(call, says, tmp_path):
    with pytest.raises(TacoValueError, match=says):
        call(tmp_path)
