"""``taco train --resume`` with a run named from the home folder (``~/run1``): a new run's
``-o '~/new'`` went to $HOME/new, but ``--resume '~/run1'`` said the run did not exist,
``--resume -o '~/run1'`` found nothing to resume and ``--resume --set 'out_dir=~/run1'`` showed
the defaults instead of the run's config. A run's config.yaml recording out_dir ``~/runs/r`` is
that run's folder when it is resumed from there."""

from __future__ import annotations

from pathlib import Path

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


def test_a_run_config_recording_its_folder_under_home_is_not_moved(tmp_path, monkeypatch):
    """A run's config.yaml recording out_dir ~/runs/r (as given) is that run's folder: no
    'moved or copied' note when it is resumed from there."""
    from taco.cli import build_parser
    from taco.train.cli import resolve_config

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "runs" / "r"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text("model: elic-tiny\npreset: elic\nout_dir: ~/runs/r\n", encoding="utf-8")
    (run / "log.jsonl").write_text("", encoding="utf-8")
    notes: list[str] = []
    cfg = resolve_config(build_parser(["train"]).parse_args(["train", str(run / "config.yaml"), "--resume"]), notes)
    assert not [n for n in notes if "moved or copied" in n], notes
    assert Path(cfg.out_dir).expanduser() == run
