"""Review T. (1) ``init_from`` given by ``--set`` or a config file started a warm start without
the lr warm-up that ``--init-from`` gives (docs/training.md said so of ``--init-from`` only):
every warm start now warms up over INIT_WARMUP_STEPS unless ``warmup_steps`` is given.
(2) A model argument that reads as a path (``./run``, ``x.safetensors``) was looked up as a name
first, which imports every TACO_PLUGINS module (docs/models.md: "never otherwise"), so a broken
plugin stopped every checkpoint path: no name reads as a path, so none is looked up."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from taco.cli import main as taco_main
from taco.models import create_model, save_checkpoint
from taco.models.config import PLUGINS_VARIABLE
from taco.models.registry import classify_model_spec
from taco.train.schedule import INIT_WARMUP_STEPS


def printed(capsys, *argv: str) -> dict:
    assert taco_main(["train", *argv, "--print-config"]) == 0
    return yaml.safe_load(capsys.readouterr().out)


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    path = tmp_path / "w.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=1), path)
    return path


def test_init_from_by_set_or_config_file_warms_up(checkpoint, tmp_path, capsys):
    out = f"out_dir={tmp_path / 'run'}"
    assert printed(capsys, "--set", f"init_from={checkpoint}", out)["warmup_steps"] == INIT_WARMUP_STEPS
    config = tmp_path / "c.yaml"
    config.write_text(f"init_from: {checkpoint}\n", encoding="utf-8")
    assert printed(capsys, str(config), "--set", out)["warmup_steps"] == INIT_WARMUP_STEPS
    # given for this run: it is taken
    assert printed(capsys, "--set", f"init_from={checkpoint}", "warmup_steps=3", out)["warmup_steps"] == 3
    config.write_text(f"init_from: {checkpoint}\nwarmup_steps: 0\n", encoding="utf-8")
    assert printed(capsys, str(config), "--set", out)["warmup_steps"] == 0
    # no warm start: none
    assert printed(capsys, "--set", "model=elic-tiny", "preset=elic", out)["warmup_steps"] == 0


def test_a_path_is_looked_up_without_importing_plugins(checkpoint, monkeypatch, tmp_path):
    monkeypatch.setenv(PLUGINS_VARIABLE, "no_such_plugin_module_s33")
    monkeypatch.chdir(tmp_path)
    for spec in (str(checkpoint), f"./{checkpoint.name}", "./nothing", "x/y.safetensors"):
        classify_model_spec(spec)  # a PluginError if the plugins were imported
    assert classify_model_spec(f"./{checkpoint.name}").kind == "checkpoint"
