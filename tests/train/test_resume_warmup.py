"""``taco train CONFIG --resume`` of a warm-started run (README's way to continue a run) went on
without the run's lr warm-up: the warm-up --init-from sets (100 steps) was given to new runs only,
so a resume through a config file that names init_from but not warmup_steps resolved
warmup_steps 0, a change of config the trainer then warned about. It now takes the resumed run's
own warmup_steps (``warm_start_warmup``: of the run --resume names, over the out_dir), and the
warm start's own where the run's folder holds no config.yaml that reads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from taco.cli import main as taco_main
from taco.models import create_model, save_checkpoint
from taco.train.config import INIT_WARMUP_STEPS


def printed(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert taco_main(["train", *argv, "--print-config"]) == 0
    return yaml.safe_load(capsys.readouterr().out)


@pytest.fixture
def warm_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """A user's config that warm-starts from a model, and the run it started (config.yaml as the
    trainer writes it, every key resolved, and a log)."""
    base = tmp_path / "base.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=1), base)
    run = tmp_path / "run"
    config = tmp_path / "mine.yaml"
    config.write_text(f"model: elic-tiny\npreset: elic\ninit_from: {base}\nout_dir: {run}\n", encoding="utf-8")
    resolved = printed(capsys, str(config))
    assert resolved["warmup_steps"] == INIT_WARMUP_STEPS
    run.mkdir()
    (run / "config.yaml").write_text(yaml.safe_dump(resolved), encoding="utf-8")
    (run / "log.jsonl").write_text("", encoding="utf-8")
    return config, run


def test_config_resume_keeps_the_runs_warm_up(warm_run, capsys) -> None:  # noqa: ANN001
    config, run = warm_run
    assert printed(capsys, str(config), "--resume")["warmup_steps"] == INIT_WARMUP_STEPS
    assert printed(capsys, str(config), "--resume", str(run))["warmup_steps"] == INIT_WARMUP_STEPS
    # the run's own value, whatever it was
    saved = yaml.safe_load((run / "config.yaml").read_text())
    (run / "config.yaml").write_text(yaml.safe_dump({**saved, "warmup_steps": 7}), encoding="utf-8")
    assert printed(capsys, str(config), "--resume")["warmup_steps"] == 7
    # given for this resume: that wins
    assert printed(capsys, str(config), "--resume", "--set", "warmup_steps=3")["warmup_steps"] == 3


def test_resume_without_a_config_is_unchanged(warm_run, capsys) -> None:  # noqa: ANN001
    _, run = warm_run
    assert printed(capsys, "--resume", str(run))["warmup_steps"] == INIT_WARMUP_STEPS


def test_a_warm_start_resumed_without_a_saved_config_keeps_the_warm_up(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """The run folder has no config.yaml (nothing saved yet) or one that cannot be read (a
    folder by that name): the warm start's own warm-up, not 0."""
    base = tmp_path / "base.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=1), base)
    run = tmp_path / "run"
    run.mkdir()
    config = tmp_path / "mine.yaml"
    config.write_text(f"model: elic-tiny\npreset: elic\ninit_from: {base}\nout_dir: {run}\n", encoding="utf-8")
    assert printed(capsys, str(config), "--resume")["warmup_steps"] == INIT_WARMUP_STEPS
    (run / "config.yaml").mkdir()
    assert printed(capsys, str(config), "--resume")["warmup_steps"] == INIT_WARMUP_STEPS


def _warmup_run(folder: Path, warmup: int) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(f"model: elic-tiny\nwarmup_steps: {warmup}\n", encoding="utf-8")
    return folder


def test_warm_start_warmup_reads_the_run_named_over_the_out_dir(tmp_path):
    """--resume RUN with another out_dir: the warm-up of RUN, the run resumed."""
    import argparse

    from taco.train.cli import warm_start_warmup

    run, other = _warmup_run(tmp_path / "run", 7), _warmup_run(tmp_path / "other", 3)
    args = argparse.Namespace(resume=str(run))
    assert warm_start_warmup(args, {"out_dir": str(other)}, run) == 7
    assert warm_start_warmup(args, {"out_dir": str(other)}, None) == 3


def test_warm_start_warmup_of_a_run_whose_state_does_not_read(tmp_path):
    """No config.yaml, a training state that is no safetensors file (a TrainStateError, not a
    ConfigError): the warm-up, the state's problem said where the trainer reads it."""
    import argparse

    from taco.shards import TRAIN_STATE_FILE
    from taco.train.cli import warm_start_warmup
    from taco.train.config import INIT_WARMUP_STEPS

    run = tmp_path / "run"
    run.mkdir()
    (run / TRAIN_STATE_FILE).write_bytes(b"garbage")
    assert warm_start_warmup(argparse.Namespace(resume=str(run)), {}, run) == INIT_WARMUP_STEPS
