"""``taco plot RES -o FOLDER/ --force`` over an earlier plot with a BD table, for results with no
anchor (no classic codec): the earlier ``rd.bdrate.md`` / ``.json`` stayed beside a figure that
has no table. They are removed now (``taco evaluate`` shares this, in ``plot_results``); without
``--force`` they are files the plot would change, so it stops as for its own outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from taco.evaluation.plot import OutputExists, plot_results


def _rows(bits: float) -> list[dict]:
    return [{"image": f"i{i}.png", "setting": f"q{q}", "bpp": bits * q + 0.01 * i, "psnr": 25 + q + i * 0.1,
             "ms_ssim": 0.9, "lpips": 0.3 - 0.01 * q} for q in (1, 2, 3) for i in range(4)]


@pytest.fixture
def runs(tmp_path, rd_run) -> tuple[Path, Path]:
    """``both``: a JPEG run and a model's (a BD table against JPEG); ``model``: the model's alone."""
    write_rd_run, _ = rd_run
    both, model = tmp_path / "both", tmp_path / "model"
    write_rd_run(both, "jpeg", label="JPEG", kind="classic", codec="jpeg", rows=_rows(0.2))
    for folder in (both, model):
        write_rd_run(folder, "m", label="M", kind="learned", codec="m", rows=_rows(0.15))
    return both, model


def test_plot_force_removes_an_earlier_table(taco_main, tmp_path, runs, capsys):
    both, model = runs
    figs = tmp_path / "pl2"
    assert taco_main(["plot", str(both), "-o", f"{figs}/"]) == 0, capsys.readouterr().err
    assert (figs / "rd.bdrate.md").is_file() and (figs / "rd.bdrate.json").is_file()
    assert taco_main(["plot", str(model), "-o", f"{figs}/", "--force"]) == 0, capsys.readouterr().err
    assert sorted(p.name for p in figs.iterdir()) == ["rd.png", "rd.svg"]


def test_without_force_an_earlier_table_is_an_output_that_exists(tmp_path, runs):
    both, model = runs
    figs = tmp_path / "figs"
    plot_results(both, figs / "rd", auto_anchor=True)
    (figs / "rd.png").unlink()
    (figs / "rd.svg").unlink()
    with pytest.raises(OutputExists, match=r"rd\.bdrate\.md"):
        plot_results(model, figs / "rd", auto_anchor=True, overwrite=False)
    assert sorted(p.name for p in figs.iterdir()) == ["rd.bdrate.json", "rd.bdrate.md"]


def test_a_table_of_the_new_figure_is_kept(tmp_path, runs):
    both, _ = runs
    written = plot_results(both, tmp_path / "rd", auto_anchor=True)
    again = plot_results(both, tmp_path / "rd", auto_anchor=True)
    assert sorted(p.name for p in again) == sorted(p.name for p in written)
    assert (tmp_path / "rd.bdrate.md").is_file()
