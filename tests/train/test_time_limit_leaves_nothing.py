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



def jpegs(folder: Path, whole: bool = False) -> Path:
    """3 captioned 128x128 JPEGs in ``folder``, each cut short after its header unless
    ``whole``: the set-up reads them, the first batch cannot (``no readable image found``)."""
    from PIL import Image

    folder.mkdir(exist_ok=True)
    for k in range(3):
        path = folder / f"p{k}.jpg"
        Image.effect_noise((128, 128), 64 + k).convert("RGB").save(path, quality=95)
        if not whole:
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
        (folder / f"p{k}.txt").write_text(f"photo {k}\n")
    return folder


def test_a_first_batch_error_leaves_nothing_and_the_command_runs_again(tmp_path, tiny, capsys):
    """The first batch unreadable (exit 2): config.yaml and log.jsonl were written before it
    was drawn, and the same command after the photos were replaced was refused ('already holds
    config.yaml'). The run's files and the folder it made go, as a time limit's stop's do."""
    photos = jpegs(tmp_path / "bad")
    out = tmp_path / "runs" / "bad"
    argv = ["train", "--set", *tiny(out, max_steps=1, **ELIC), f"data.root={photos}"]
    assert taco_main(argv) == 2
    assert "no readable image found" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
    jpegs(photos, whole=True)  # the photos replaced: the same command
    assert taco_main(argv) == 0, capsys.readouterr().err
    assert (out / "checkpoint.safetensors").is_file()


def test_a_first_batch_error_keeps_what_was_there(tmp_path, tiny, capsys):
    """A user's folder keeps its own files; a run resumed with nothing saved yet keeps the
    config.yaml and log.jsonl it found (never removed: not this run's)."""
    photos = jpegs(tmp_path / "bad")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    assert taco_main(["train", "--set", *tiny(mine, max_steps=1, **ELIC), f"data.root={photos}"]) == 2
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]

    killed = tmp_path / "killed"  # a run killed before its first checkpoint
    killed.mkdir()
    (killed / "config.yaml").write_text("{}\n")
    (killed / "log.jsonl").write_text("")
    argv = ["train", "--set", *tiny(killed, max_steps=1, **ELIC), f"data.root={photos}", "--resume"]
    assert taco_main(argv) == 2
    assert "no readable image found" in capsys.readouterr().err
    assert sorted(p.name for p in killed.iterdir()) == ["config.yaml", "log.jsonl"]
