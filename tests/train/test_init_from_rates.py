"""``--init-from`` across rates: a variable-rate model from a built-in (CompressAI's layout) is
refused saying why; ``qualities=null`` from a variable-rate checkpoint is a single-rate model,
refused; a variable-rate run from a single-rate checkpoint takes its model, not its λ."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from taco.cli import main as taco_main
from taco.models import CheckpointError, create_model, save_checkpoint
from taco.samples import SAMPLES_DIR as SAMPLES
from taco.train.config import TrainConfig, config_from_dict, settings_from_init
from taco.train.model_setup import build_training_model, init_from_checkpoint

SMALL = ["data.root=" + str(SAMPLES), "k_j=0", "k_p=0", "crop=64", "batch_size=2", "workers=0",
         "progress=false"]
LAYOUT = ("init_from elic-small-q4: its entropy model has CompressAI's layout (the built-ins); a "
          "variable-rate model needs the authors' layout (reference): train it from scratch, or "
          "start from a reference-layout checkpoint")


@pytest.fixture(scope="module")
def single(tmp_path_factory) -> Path:
    """An elic-tiny checkpoint trained, it says, at λ=0.002."""
    path = tmp_path_factory.mktemp("ckpt") / "single.safetensors"
    return save_checkpoint(create_model("elic-tiny", seed=0), path, metadata={"lambda": 0.002})


@pytest.fixture(scope="module")
def variable(tmp_path_factory) -> Path:
    """A variable-rate elic-tiny checkpoint."""
    path = tmp_path_factory.mktemp("ckpt") / "vr.safetensors"
    return save_checkpoint(create_model("elic-tiny", seed=0, qualities=[0.001, 0.004]), path)


@pytest.mark.parametrize("extra", [
    ["qualities=[0.001,0.01]"],
    ["qualities=[0.001,0.01]", "model_overrides.layout=reference"],  # said it fit as single-rate
    ["model=elic-vr"],
])
def test_a_variable_rate_model_from_a_builtin_is_refused_saying_why(capsys, extra):
    assert taco_main(["train", "--print-config", "--init-from", "elic-small-q4",
                      "--set", *SMALL, *extra]) == 2
    assert LAYOUT in capsys.readouterr().err


def test_the_library_path_says_the_same():
    cfg = config_from_dict({"init_from": "elic-small-q4", "model": "elic-small", "preset": "elic",
                            "qualities": [0.001, 0.01]})
    with pytest.raises(CheckpointError, match=r"CompressAI's layout \(the built-ins\)"):
        build_training_model(cfg)
    vr = create_model("elic-small", qualities=[0.001, 0.01])
    with pytest.raises(CheckpointError, match="train it from scratch"):
        init_from_checkpoint(vr, "elic-small-q4")


def test_qualities_null_from_a_variable_rate_checkpoint_is_a_single_rate_model(tmp_path, capsys,
                                                                              variable):
    values, _ = settings_from_init({"init_from": str(variable), "qualities": None})
    assert "qualities" not in values["model_overrides"]
    kept, _ = settings_from_init({"init_from": str(variable)})  # not given: the checkpoint's
    assert kept["model_overrides"]["qualities"] == [0.001, 0.004]

    assert taco_main(["train", "--init-from", str(variable), "--out-dir", str(tmp_path / "run"),
                      "--max-steps", "1", "--set", *SMALL, "qualities=null"]) == 2
    err = capsys.readouterr().err
    assert "(a variable-rate checkpoint cannot start a single-rate model)" in err, err
    assert not (tmp_path / "run" / "checkpoint.safetensors").exists()


@pytest.mark.parametrize("given", [
    {"qualities": [0.001, 0.01]},
    {"model_overrides": {"qualities": [0.001, 0.01]}},
])
def test_a_variable_rate_run_from_a_single_rate_checkpoint_takes_no_lambda(single, given):
    values, notes = settings_from_init({"init_from": str(single), **given})
    assert "lmbda" not in values and values["model"] == "elic-tiny"
    assert notes == [f"model elic-tiny from init_from {single}, as it was trained "
                     "(--set model=... to change)"]
    assert "lmbda" not in settings_from_init({"init_from": str(single), "model": "elic-vr"})[0]
    # single-rate: still its λ
    values, notes = settings_from_init({"init_from": str(single)})
    assert values["lmbda"] == 0.002 and "λ=0.002" in notes[0] and "lmbda=..." in notes[0]


def test_the_recorded_config_has_the_default_lambda(capsys, single):
    assert taco_main(["train", "--print-config", "--init-from", str(single), "--set", *SMALL,
                      "qualities=[0.001,0.01]"]) == 0
    cfg = yaml.safe_load(capsys.readouterr().out)
    assert (cfg["model"], cfg["lmbda"], cfg["qualities"]) == (
        "elic-tiny", TrainConfig.lmbda, [0.001, 0.01])


def test_the_model_config_says_whose_layout_compressai_is():
    from taco.models import ModelConfig

    with pytest.raises(ValueError, match=r"got 'compressai' \(CompressAI's: the built-in trained "
                                         r"models', which cannot start one\)"):
        ModelConfig(layout="compressai", qualities=[0.001, 0.01])
