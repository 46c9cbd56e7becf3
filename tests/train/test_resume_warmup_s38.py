"""``taco train CONFIG --resume`` of a warm-started run (README's way to continue a run) went on
without the run's lr warm-up: the warm-up --init-from sets (100 steps) was given to new runs only,
so a resume through a config file that names init_from but not warmup_steps resolved
warmup_steps 0, a change of config the trainer then warned about (session 37's left-alone item,
R9 #4). It now takes the resumed run's own warmup_steps."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from taco.cli import main as taco_main
from taco.models import create_model, save_checkpoint
from taco.train.schedule import INIT_WARMUP_STEPS


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
