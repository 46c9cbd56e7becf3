"""``taco train --resume`` with a run named from the home folder (``~/run1``): a new run's
``-o '~/new'`` went to $HOME/new, but ``--resume '~/run1'`` said the run did not exist,
``--resume -o '~/run1'`` found nothing to resume and ``--resume --set 'out_dir=~/run1'`` showed
the defaults instead of the run's config (review K)."""

from __future__ import annotations

import pytest

from taco.cli import main as taco_main


@pytest.fixture
def home_run(tmp_path, monkeypatch):
    """$HOME with a run folder ``run1`` whose config.yaml differs from the defaults; the current
    directory elsewhere (a folder named ``~`` there would not be the run)."""
    home, work = tmp_path / "home", tmp_path / "work"
    (home / "run1").mkdir(parents=True)
    work.mkdir()
    (home / "run1" / "config.yaml").write_text("model: elic-tiny\ncrop: 128\nbatch_size: 3\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    return home / "run1"


@pytest.mark.parametrize("argv", [["--resume", "~/run1"],
                                  ["--resume", "-o", "~/run1"],
                                  ["--resume", "--out-dir", "~/run1"],
                                  ["--resume", "--set", "out_dir=~/run1"]],
                         ids=["resume-path", "-o", "--out-dir", "--set"])
def test_resume_finds_the_run_under_home(home_run, argv, capsys):
    assert taco_main(["train", *argv, "--print-config"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert "model: elic-tiny" in shown and "crop: 128" in shown and "batch_size: 3" in shown
    assert f"out_dir: {home_run}" in shown


def test_resume_of_a_missing_run_under_home_names_it_as_given(home_run, capsys):
    assert taco_main(["train", "--resume", "~/run2", "--print-config"]) == 2
    assert "--resume: ~/run2 does not exist" in capsys.readouterr().err
