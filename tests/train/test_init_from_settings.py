"""``--init-from`` trains on what the checkpoint is: without ``model`` (and ``lmbda``) given,
they are the checkpoint's (said before the run's summary); given ones win, and a model its
weights do not fit is refused with the --set that fits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import taco
from taco.cli import main as taco_main
from taco.samples import SAMPLES_DIR as SAMPLES

SMALL = ["data.root=" + str(SAMPLES), "k_j=0", "crop=64", "batch_size=2", "workers=0",
         "progress=false"]


def train_main(argv: list[str]) -> int:
    """``taco train ARGV``."""
    return taco_main(["train", *argv])


def _resolved(capsys, *argv: str) -> dict:
    assert train_main(["--print-config", *argv]) == 0
    return yaml.safe_load(capsys.readouterr().out)


def test_model_and_lambda_come_from_the_init_checkpoint(tmp_path, capsys):
    cfg = _resolved(capsys, "--init-from", "taco-minilm-small-q4", "--set", *SMALL)
    assert (cfg["preset"], cfg["model"], cfg["lmbda"]) == ("taco", "taco-minilm-small", 0.004)
    assert cfg["model_overrides"] == {}  # its layout comes from the checkpoint anyway

    elic = _resolved(capsys, "--init-from", "elic-small-q3", "--set", *SMALL)
    assert (elic["preset"], elic["model"], elic["lmbda"]) == ("elic", "elic-small", 0.0016)

    # what is given wins: λ, and an ELIC -> TACO warm start keeps its TACO model
    given = _resolved(capsys, "--init-from", "taco-minilm-small-q4", "--set", *SMALL, "lmbda=0.009")
    assert (given["model"], given["lmbda"]) == ("taco-minilm-small", 0.009)
    frozen = _resolved(capsys, "--freeze-base", "--init-from", "elic-small-q4", "--set", *SMALL,
                       "model=taco-minilm-small")
    assert (frozen["preset"], frozen["model"], frozen["lmbda"]) == (
        "taco-frozen-base", "taco-minilm-small", 0.004)

    # a real (one-step) run says so before its summary, and trains at the checkpoint's λ
    out = tmp_path / "run"
    assert train_main(["--init-from", "taco-minilm-small-q4", "--out-dir", str(out),
                       "--max-steps", "1", "--set", *SMALL]) == 0
    err = capsys.readouterr().err
    assert ("model taco-minilm-small and λ=0.004 from init_from taco-minilm-small-q4, as it was "
            "trained") in err
    assert err.index("from init_from") < err.index("taco train: preset taco, model taco-minilm-small")
    meta = taco.load(out / "checkpoint.safetensors").metadata
    assert meta["lambda"] == 0.004 and meta["config"]["model"] == "taco-minilm-small"


def test_a_text_free_init_model_takes_preset_elic_and_says_so_once(tmp_path, capsys):
    """The text-free rule is preset_from_model's alone: --init-from a shipped ELIC gets preset
    elic with the same note as --set model=elic-small (it was set silently before), once; a TACO
    preset given is kept, and refused with a text-free model."""
    out = tmp_path / "run"
    assert train_main(["--init-from", "elic-small-q4", "--out-dir", str(out), "--max-steps", "1",
                       "--set", *SMALL]) == 0
    err = capsys.readouterr().err
    assert err.count("taco train: note: preset elic, as model elic-small reads no text") == 1, err
    assert yaml.safe_load((out / "config.yaml").read_text())["preset"] == "elic"
    assert _resolved(capsys, "--init-from", "elic-small-q4", "--set", *SMALL,
                     "preset=taco")["preset"] == "taco"
    assert train_main(["--print-config", "--init-from", "elic-small-q4", "--set", *SMALL,
                       "preset=taco", "model=elic-small"]) == 2
    assert "preset 'taco' trains a TACO model's text modules, but model 'elic-small' reads no " \
        "text" in capsys.readouterr().err


@pytest.mark.parametrize("model, fits", [
    ("taco-minilm-tiny", "--set model=taco-minilm-small"),
    ("elic-tiny", "--set model=taco-minilm-small preset=taco"),
])
def test_a_model_the_weights_do_not_fit_names_the_one_that_does(tmp_path, capsys, model, fits):
    preset = ["preset=elic"] if model.startswith("elic") else []
    assert train_main(["--init-from", "taco-minilm-small-q4", "--out-dir", str(tmp_path / "r"),
                       "--set", *SMALL, f"model={model}", *preset]) == 2
    err = capsys.readouterr().err.strip()
    assert "init_from taco-minilm-small-q4" in err and fits in err and len(err.splitlines()) == 1


def test_an_elic_checkpoint_for_a_taco_model_names_the_taco_models_of_its_width(tmp_path, capsys):
    assert train_main(["--freeze-base", "--init-from", "elic-small-q4", "--out-dir",
                       str(tmp_path / "r"), "--set", *SMALL, "model=taco-minilm-tiny"]) == 2
    err = capsys.readouterr().err
    assert "N=48 there, 16 in the model being trained" in err
    assert "a TACO model of its width: --set model=taco-minilm-small" in err


@pytest.fixture(scope="module")
def elic_tiny(tmp_path_factory) -> Path:
    """An elic-tiny checkpoint (seed 0) trained, it says, at λ=0.002."""
    from taco.models import create_model, save_checkpoint

    path = tmp_path_factory.mktemp("ckpt") / "elic-tiny.safetensors"
    return save_checkpoint(create_model("elic-tiny", seed=0), path, metadata={"lambda": 0.002})


@pytest.mark.parametrize("lmbda", [True, float("nan"), float("inf"), -0.01, 0, pytest.param(10**400, id="10**400"), "0.01", None])
def test_a_recorded_lambda_that_is_no_positive_number_is_not_taken(tmp_path, elic_tiny, capsys, lmbda):
    """``"lambda": true`` was taken as λ=1, NaN and -0.01 were refused as the config's own
    ("lmbda must be positive, got nan") and a 401-digit λ was an OverflowError; like
    ``taco models``, a warm start now sees no λ there and trains at the config's."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    from taco.models import describe_model
    from taco.train.config import TrainConfig, settings_from_init

    with safe_open(str(elic_tiny), framework="pt") as f:
        header = json.loads(f.metadata()["taco"])
        state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    odd = tmp_path / "odd.safetensors"
    save_file(state, str(odd), metadata={"taco": json.dumps({**header, "metadata": {"lambda": lmbda}})})

    good, notes = settings_from_init({"init_from": str(elic_tiny)})
    assert good["lmbda"] == 0.002 and "λ=0.002" in notes[0]
    values, notes = settings_from_init({"init_from": str(odd)})
    assert "lmbda" not in values and "λ" not in notes[0] and values["model"] == "elic-tiny"
    assert describe_model(odd)["lmbda"] is None
    cfg = _resolved(capsys, "--init-from", str(odd), "--set", *SMALL)
    assert (cfg["model"], cfg["lmbda"]) == ("elic-tiny", TrainConfig.lmbda)


@pytest.mark.parametrize(
    "source, message",
    [
        ("elic-smal-q4", "init_from: model 'elic-smal-q4' is neither a checkpoint file nor a "
                         "built-in trained model (did you mean 'elic-small-q4'"),
        ("elic-small", "init_from: 'elic-small' is an architecture without trained weights "
                       "(model=elic-small trains it"),
        ("EMPTY", "init_from: EMPTY is a folder without a model checkpoint (checkpoint.safetensors)"),
    ],
)
def test_an_init_from_without_a_checkpoint_says_why(tmp_path, capsys, source, message):
    """A typo of a built-in name gets the close names; an empty folder is said to hold no
    checkpoint (naming the file looked for), not 'no such checkpoint file'."""
    empty = tmp_path / "empty"
    empty.mkdir()
    source, message = source.replace("EMPTY", str(empty)), message.replace("EMPTY", str(empty))
    assert train_main(["--print-config", "--init-from", source, "--set", *SMALL]) == 2
    err = capsys.readouterr().err
    assert message in err and "no such checkpoint file\n" not in err, err


def test_a_checkpoint_of_other_entropy_parameter_widths_names_them_and_the_model_it_was(tmp_path, capsys):
    """An ELIC imported from JiangWeibeta/ELIC of 2024 (param_widths elic-2024) into the default
    elic-tiny: refused by the option that differs, not by a tensor shape, with the override that fits."""
    from taco.models import create_model, save_checkpoint

    made = save_checkpoint(create_model("elic-tiny", param_widths="elic-2024"), tmp_path / "e.safetensors",
                           metadata={"lambda": 0.002})
    assert train_main(["--init-from", str(made), "--out-dir", str(tmp_path / "r"),
                       "--set", *SMALL, "model=elic-tiny", "preset=elic"]) == 2
    err = capsys.readouterr().err.strip()
    assert "param_widths=elic-2024 there, elic-2023 in the model being trained" in err, err
    assert 'model_overrides.param_widths="elic-2024"' in err and len(err.splitlines()) == 1, err
