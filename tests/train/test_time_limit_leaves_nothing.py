"""A run whose set-up spends its --time-limit (exit status 3, "no step fitted") leaves nothing:
no config.yaml and empty log.jsonl that would make the folder look like a run (to --resume, to
taco models), the folder removed if the run made it; a user's files and a resumed run's files
stay as they were. The check is made before the run writes anything; a signal noticed there
leaves nothing either."""

from __future__ import annotations

import signal
from pathlib import Path

import taco.train.trainer as trainer
from taco.cli import main as taco_main

ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}


def no_step(tiny, out: Path) -> list[str]:
    return ["train", "--set", *tiny(out, max_steps=100000, epochs=100000, **ELIC),
            "--time-limit", "0.01s"]


def files(folder: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in folder.iterdir() if f.is_file()}


def test_a_new_folder_is_removed(tmp_path, tiny, capsys):
    out = tmp_path / "new" / "run"
    assert taco_main(no_step(tiny, out)) == 3
    assert "no step fitted" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
    # nothing to resume there, and a run may start there
    assert taco_main(["train", "--resume", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert taco_main(["train", "--set", *tiny(out, max_steps=1, **ELIC)]) == 0
    assert (out / "checkpoint.safetensors").is_file()


def test_a_users_folder_keeps_only_its_files(tmp_path, tiny):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert taco_main(no_step(tiny, out)) == 3
    assert files(out) == {"notes.txt": b"mine"} and [p.name for p in out.iterdir()] == ["notes.txt"]


def test_a_resumed_run_keeps_its_config_and_log(tmp_path, tiny):
    out = tmp_path / "run"
    assert taco_main(["train", "--set", *tiny(out, max_steps=1, **ELIC)]) == 0
    before = files(out)
    assert before["log.jsonl"]  # one record
    assert taco_main([*no_step(tiny, out), "--resume"]) == 3
    assert files(out) == before
    assert taco_main(["train", "--resume", str(out), "--max-steps", "2"]) == 0
    assert b'"step": 2' in (out / "log.jsonl").read_bytes()


def test_a_signal_before_the_first_step_leaves_nothing(tmp_path, tiny, monkeypatch, capsys):
    """Ctrl-C (or SIGTERM, SIGHUP) noticed at the first step's check: the same early check,
    before config.yaml and log.jsonl are written, so no folder that looks like a run."""

    class SignalledAtOnce(trainer.StopSignals):
        def __enter__(self) -> trainer.StopSignals:
            super().__enter__()
            self.signum = signal.SIGINT
            return self

    monkeypatch.setattr(trainer, "StopSignals", SignalledAtOnce)
    out = tmp_path / "new" / "run"
    assert taco_main(["train", "--set", *tiny(out, max_steps=2, **ELIC)]) == 130
    assert "before its first step" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
