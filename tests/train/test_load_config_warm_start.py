"""``load_config`` builds a warm start (``init_from``) as ``taco train CONFIG --set ...`` does:
the checkpoint's model and λ where nothing gives them, a warm-up of INIT_WARMUP_STEPS where no
``warmup_steps`` is given; an ``init_from`` not there yet (a recipe's later stage) leaves the
config as written."""

from __future__ import annotations

import argparse
from pathlib import Path

from taco.models import create_model, save_checkpoint
from taco.train import load_config
from taco.train.cli import add_arguments, resolve_config
from taco.train.config import INIT_WARMUP_STEPS

BUILTIN = "taco-minilm-small-q4"  # trained as taco-minilm-small at λ=0.004


def cli_config(*argv: str):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return resolve_config(parser.parse_args(list(argv)), [])


def test_init_from_takes_the_checkpoints_model_lambda_and_warm_up(tmp_path: Path) -> None:
    out = str(tmp_path / "run")
    cfg = load_config(None, [f"init_from={BUILTIN}", f"out_dir={out}"])
    assert (cfg.model, cfg.lmbda, cfg.warmup_steps) == ("taco-minilm-small", 0.004, INIT_WARMUP_STEPS)
    assert cfg.to_dict() == cli_config("--init-from", BUILTIN, "--out-dir", out).to_dict()
    assert cfg.to_dict() == cli_config("--set", f"init_from={BUILTIN}", f"out_dir={out}").to_dict()


def test_keys_given_win_over_the_warm_start(tmp_path: Path) -> None:
    out = f"out_dir={tmp_path / 'run'}"
    cfg = load_config(None, [f"init_from={BUILTIN}", out, "model=taco-tiny", "lmbda=0.01", "warmup_steps=7"])
    assert (cfg.model, cfg.lmbda, cfg.warmup_steps) == ("taco-tiny", 0.01, 7)
    config = tmp_path / "c.yaml"  # a config file's keys too, as taco train CONFIG takes them
    config.write_text(f"init_from: {BUILTIN}\nlmbda: 0.0035\nwarmup_steps: 0\n", encoding="utf-8")
    cfg = load_config(config, [out])
    assert (cfg.model, cfg.lmbda, cfg.warmup_steps) == ("taco-minilm-small", 0.0035, 0)
    assert cfg.to_dict() == cli_config(str(config), "--set", out).to_dict()


def test_a_checkpoint_file_gives_its_architecture(tmp_path: Path) -> None:
    checkpoint = tmp_path / "w.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=1), checkpoint)
    cfg = load_config(None, [f"init_from={checkpoint}", f"out_dir={tmp_path / 'run'}"])
    assert (cfg.model, cfg.preset, cfg.warmup_steps) == ("elic-tiny", "elic", INIT_WARMUP_STEPS)


def test_an_init_from_not_there_yet_leaves_the_config_as_written(tmp_path: Path) -> None:
    # a recipe's later stage names the checkpoint an earlier stage makes: the config loads (as
    # configs/taco-coco.yaml must, before its ELIC stage has run), and nothing is filled in
    missing = tmp_path / "missing.safetensors"
    cfg = load_config(None, [f"init_from={missing}", f"out_dir={tmp_path / 'run'}"])
    assert cfg.init_from == str(missing) and cfg.warmup_steps == 0 and cfg.model is None
    cfg = load_config(None, [f"out_dir={tmp_path / 'run'}"])  # no warm start: none of it
    assert cfg.warmup_steps == 0 and cfg.init_from is None
