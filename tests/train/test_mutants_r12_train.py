"""Mutation round 12 (session 38's new code) in taco.train: ``CONFIG --resume`` of a warm-started
run whose folder holds no config.yaml yet, or one that does not read."""

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
