"""Two datasets whose output folders would be one (``A/photos`` and ``B/photos``: both
``OUT/photos``). ``taco evaluate`` ran the whole first one, then refused the second's "resume"
(differs in: dataset) with status 2 and printed nothing of what it had written. It refuses the
pair now, in one line naming both, before any model is loaded or any file written."""

from __future__ import annotations

import pytest

from taco.evaluation import evaluate


@pytest.fixture
def main_without_model(eval_main, monkeypatch):
    """:func:`eval_main`, where loading a model fails the test: the refusals come before."""

    def no_model(*args, **kwargs):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(evaluate, "load_model", no_model)
    return eval_main


def _argv(out, *datasets):
    return ["evaluate", *map(str, datasets), "-m", "taco-tiny", "-o", str(out), "--fid", "off",
            "--cmmd-clip", "off", "--no-plot", "--quiet"]


def test_two_folders_of_one_name_are_refused_up_front(main_without_model, folder_factory, tmp_path, capsys):
    a, b = folder_factory(tmp_path / "A" / "photos"), folder_factory(tmp_path / "B" / "photos")
    out = tmp_path / "sameo"
    assert main_without_model(_argv(out, a, b)) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        f"taco evaluate: error: datasets {a} and {b} would share the output folder {out / 'photos'} "
        "(both are named 'photos'): evaluate them in separate calls, each with its own --output"]
    assert not out.exists()


def test_one_folder_given_twice_is_refused(main_without_model, folder_factory, tmp_path, capsys):
    a = folder_factory(tmp_path / "photos")
    out = tmp_path / "out"
    again = f"{tmp_path}/./photos"
    assert main_without_model(_argv(out, a, again)) == 2
    assert capsys.readouterr().err.strip() == (
        f"taco evaluate: error: dataset {again} is given twice (as {a} and {again}): give it once")
    assert not out.exists()


def test_two_folders_whose_names_differ_only_in_case_are_refused_up_front(
        main_without_model, folder_factory, tmp_path, capsys):
    """OUT/Photos and OUT/photos are one folder on macOS and Windows, and one figure's file for
    taco plot, which refuses them: refused on every system, before any work."""
    a, b = folder_factory(tmp_path / "A" / "Photos"), folder_factory(tmp_path / "B" / "photos")
    out = tmp_path / "caseo"
    assert main_without_model(_argv(out, a, b)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "(named 'Photos' and 'photos', one folder where names are case-blind)" in err[0]
    assert not out.exists()
