"""F_DC5 (1): a moved or copied run's config.yaml given to a warm start lost the 100-step lr
warm-up: ``cp -r runs/x runs/m; taco train runs/m/config.yaml --init-from runs/m -o runs/nm
--print-config`` printed ``warmup_steps: 0`` (runs/x's gave 100), since only a config.yaml in the
folder it records as out_dir counted as the run's own, though ``--resume`` takes a moved run's
config.yaml as its own (4a5a41a). One rule now: beside the run's files, moved or not."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from taco.cli import main as taco_main
from taco.models import create_model, save_checkpoint
from taco.train.cli import run_saved_config
from taco.train.schedule import INIT_WARMUP_STEPS


def printed(capsys, *argv: str) -> dict:
    assert taco_main(["train", *argv, "--print-config"]) == 0
    return yaml.safe_load(capsys.readouterr().out)


def test_a_moved_runs_config_warm_starts_with_the_warm_up(tmp_path: Path, capsys) -> None:
    run = tmp_path / "x"
    run.mkdir()
    save_checkpoint(create_model("elic-tiny", seed=1), run / "checkpoint.safetensors")
    (run / "config.yaml").write_text(yaml.safe_dump(printed(
        capsys, "--set", "model=elic-tiny", "preset=elic", f"out_dir={run}")), encoding="utf-8")
    (run / "log.jsonl").write_text("", encoding="utf-8")
    moved = tmp_path / "m"
    shutil.copytree(run, moved)
    config = str(moved / "config.yaml")
    assert yaml.safe_load(Path(config).read_text())["warmup_steps"] == 0  # as the run resolved it
    assert run_saved_config(config)
    for source in (run, moved):
        got = printed(capsys, str(source / "config.yaml"), "--init-from", str(moved),
                      "-o", str(tmp_path / "nm"))
        assert got["warmup_steps"] == INIT_WARMUP_STEPS
    # given for this run, it is taken; without --init-from the file is taken as it is
    assert printed(capsys, config, "--init-from", str(moved), "-o", str(tmp_path / "nm"),
                   "--set", "warmup_steps=3")["warmup_steps"] == 3
    assert printed(capsys, config, "-o", str(tmp_path / "nm"))["warmup_steps"] == 0
