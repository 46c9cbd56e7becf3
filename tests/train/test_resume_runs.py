"""``taco train --resume RUN``: the run goes on in its own folder, from its own config.yaml,
from any directory; a folder that holds another run is never overwritten."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

import taco
from taco.cli import main as taco_main
from taco.samples import SAMPLES_DIR as SAMPLES
from taco.train.checkpoints import STATE_FILE

ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}


def train_main(argv: list[str]) -> int:
    """``taco train ARGV``."""
    return taco_main(["train", *argv])


def _files(folder: Path) -> dict[str, int]:
    return {f.name: f.stat().st_mtime_ns for f in folder.iterdir()}


def _steps(run: Path) -> int:
    return taco.load(run / "checkpoint.safetensors").metadata["trained_steps"]


def test_resume_continues_the_named_run_in_its_own_folder(tmp_path, tiny, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run1, other = tmp_path / "run1", tmp_path / "runs" / "taco"
    assert train_main(["--set", *tiny(run1, **ELIC), "--max-steps", "1"]) == 0
    assert train_main(["--set", *tiny(other, **ELIC), "--max-steps", "3"]) == 0
    before = _files(other)
    # no out_dir anywhere but the default (runs/taco, which holds another run): run1 goes on
    # in run1, from run1's config.yaml
    assert train_main(["--resume", str(run1), "--max-steps", "2"]) == 0
    err = capsys.readouterr().err
    assert "resuming at step 1" in err and f"-> {run1}" in err
    assert _steps(run1) == 2 and _files(other) == before and _steps(other) == 3

    # continuing it into a folder that holds another run is refused, naming both
    assert train_main(["--resume", str(run1), "--out-dir", str(other), "--max-steps", "3"]) == 2
    err = capsys.readouterr().err
    assert f"--resume {run1}: {other} holds another run ({STATE_FILE})" in err
    assert len(err.strip().splitlines()) == 1
    assert _files(other) == before and _steps(run1) == 2

    # into an empty folder it continues there (a copy that trains on), run1 left as it was
    fork = tmp_path / "fork"
    kept = _files(run1)
    assert train_main(["--resume", str(run1), "--out-dir", str(fork), "--max-steps", "3"]) == 0
    assert _steps(fork) == 3 and _files(run1) == kept

    # a path that is not there is an error, not a new run in a new folder
    assert train_main(["--resume", str(tmp_path / "rnu1"), "--max-steps", "3"]) == 2
    assert "--resume" in capsys.readouterr().err and not (tmp_path / "rnu1").exists()


def test_resume_reads_the_runs_config_from_any_directory(tmp_path, tiny, capsys, monkeypatch):
    """A run started with --set and relative paths resumes with --resume RUN alone, from
    another directory: its config.yaml holds absolute paths."""
    work = tmp_path / "work"
    shutil.copytree(SAMPLES, work / "photos")
    monkeypatch.chdir(work)
    argv = ["--set", *tiny("run1", **ELIC), "data.root=photos", "--max-steps", "1"]
    assert train_main(argv) == 0
    saved = yaml.safe_load((work / "run1" / "config.yaml").read_text())
    assert saved["data"]["root"] == str(work / "photos") and saved["out_dir"] == str(work / "run1")

    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert train_main(["--resume", "work/run1", "--max-steps", "2"]) == 0
    err = capsys.readouterr().err
    assert "resuming at step 1" in err and "different configuration" not in err
    assert _steps(work / "run1") == 2 and not (tmp_path / "runs").exists()
    # --set applies on top of the run's config
    assert train_main(["--resume", "work/run1", "--set", "max_steps=3", "log_interval=3"]) == 0
    assert _steps(work / "run1") == 3


def test_resume_names_a_run_by_any_of_its_files(tmp_path, tiny, capsys):
    """--resume RUN/checkpoint.safetensors (or its config.yaml, log.jsonl) continues RUN in RUN;
    it had made the checkpoint file the run's folder. Another file is refused, left as it was."""
    run = tmp_path / "run"
    assert train_main(["--set", *tiny(run, **ELIC), "--max-steps", "1"]) == 0
    for name, steps in (("checkpoint.safetensors", 2), ("config.yaml", 3), ("log.jsonl", 4)):
        capsys.readouterr()
        assert train_main(["--resume", str(run / name), "--max-steps", str(steps)]) == 0
        assert "resuming at step" in capsys.readouterr().err
        assert (run / "checkpoint.safetensors").is_file() and _steps(run) == steps

    other = tmp_path / "notes.txt"
    other.write_text("mine")
    assert train_main(["--resume", str(other), "--max-steps", "5"]) == 2
    err = capsys.readouterr().err
    assert (f"--resume takes a run folder or a file of it ({STATE_FILE}, checkpoint.safetensors, "
            f"config.yaml); {other} is not one of a run's files") in err
    assert len(err.strip().splitlines()) == 1 and other.read_text() == "mine"

    # a hand-written config.yaml beside no run is not taken for a run (it was trained over)
    mine = tmp_path / "cfgs" / "config.yaml"
    mine.parent.mkdir()
    mine.write_text("# my experiment\n" + (run / "config.yaml").read_text())
    kept = mine.read_text()
    assert train_main(["--resume", str(mine), "--max-steps", "5"]) == 2
    err = capsys.readouterr().err
    assert f"{mine} is a config beside no run: to start a run from it, give it without --resume" in err
    assert mine.read_text() == kept and sorted(p.name for p in mine.parent.iterdir()) == ["config.yaml"]


def test_resume_of_a_folder_that_holds_no_run_is_an_error(tmp_path, capsys):
    """--resume DIR, DIR holding neither config.yaml nor a state, and no config: every key would
    be a default (the CLIP-reading taco model, on data/coco): an error, nothing written."""
    empty = tmp_path / "empty"
    empty.mkdir()
    assert train_main(["--resume", str(empty), "--max-steps", "2"]) == 2
    err = capsys.readouterr().err
    assert f"nothing to resume in {empty}: no config.yaml, no {STATE_FILE}" in err
    assert len(err.strip().splitlines()) == 1 and list(empty.iterdir()) == []


def test_resume_with_another_model_says_so_in_one_line(tmp_path, tiny, capsys):
    """--resume RUN --set model=OTHER: one line naming both models and what to do, not
    load_state_dict's list of every missing and unexpected key, nor first the warning about a
    changed configuration (the refusal follows it); a change that is accepted is warned about."""
    run = tmp_path / "run"
    assert train_main(["--set", *tiny(run, **ELIC), "--max-steps", "1"]) == 0
    capsys.readouterr()
    assert train_main(["--resume", str(run), "--set", "model=elic-small", "max_steps=2"]) == 2
    err = capsys.readouterr().err
    (line,) = err.splitlines()
    assert line.startswith(f"taco train: error: {run / STATE_FILE}: ") and "Missing key" not in err
    assert ("the run was trained with model 'elic-tiny' and this config asks for 'elic-small', "
            "which its weights do not fit: to resume the run, drop that model from --set") in err
    assert "start a new run (without --resume, in another --out-dir)" in err

    assert train_main(["--resume", str(run), "--set", "lr=5e-5", "max_steps=2"]) == 0
    err = capsys.readouterr().err
    assert (f"taco train: warning: resuming {run / STATE_FILE} with a different configuration "
            "(lr); the run will not continue exactly as it started\n") in err


def test_resume_warnings_read_as_taco_trains_own(tmp_path, tiny, capsys):
    """A resume with another batch size warns twice, each line as taco's other warnings read
    (``taco train: warning: ...``), not as a library's (``warning: UserWarning: ...``)."""
    run = tmp_path / "run"
    assert train_main(["--set", *tiny(run, **ELIC), "--max-steps", "1"]) == 0
    capsys.readouterr()
    assert train_main(["--resume", str(run), "--set", "batch_size=1", "max_steps=2"]) == 0
    err = capsys.readouterr().err
    assert (f"taco train: warning: resuming {run / STATE_FILE} with a different configuration "
            "(batch_size); the run will not continue exactly as it started\n") in err
    assert ("taco train: warning: resuming with another layout (batch 2 -> 1): continuing from "
            "the same step, but not bit-exactly\n") in err
    assert "UserWarning" not in err


def test_a_misfit_names_the_key_that_changed_or_the_first_problem():
    from taco.train.checkpoints import model_misfit
    from taco.train.config import TrainConfig

    error = RuntimeError("Error(s) in loading state_dict for ELIC:\n\tMissing key(s): a, b.\n\t"
                         "size mismatch for c.\n\tsize mismatch for d.")
    cfg = TrainConfig(preset="elic", model="elic-tiny")
    # a state saved without model: the preset's (elic)
    assert "with model 'elic' and this config asks for 'elic-tiny'" in model_misfit(
        cfg, {"preset": "elic"}, error)
    saved = {"preset": "elic", "model": "elic-tiny", "model_overrides": {"N": 8}}
    assert "with model_overrides {'N': 8} and this config asks for {}" in model_misfit(cfg, saved, error)
    same = model_misfit(cfg, {"preset": "elic", "model": "elic-tiny"}, error)
    assert same == "the saved model does not fit this run: Missing key(s): a, b; and 2 more"
