"""The ``--set`` a refused warm start names (taco.train.model_setup): for every pair of
registered models, following it gives a model the checkpoint initialises."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from taco.models import CheckpointError, create_model, save_checkpoint
from taco.models.config import TEXTLESS_ARCHITECTURES
from taco.train.model_setup import WARM_STARTS, init_from_checkpoint

#: One model of each kind, at the smallest widths: ELIC, and TACO with each text encoder and
#: each injection (a checkpoint of other widths: tests/train/test_init_from_settings.py).
NAMES = ["elic-tiny", "taco-tiny", "taco-minilm-tiny", "taco-tgic-tiny"]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("init_from")
    return {n: save_checkpoint(create_model(n, seed=0), out / f"{n}.safetensors") for n in NAMES}


def _hint(message: str) -> tuple[list[str], dict[str, object], str | None]:
    """(models, model_overrides, preset) of the ``--set ...`` that ends ``message``."""
    found = re.search(r"--set (.*)$", message)
    assert found, f"no --set in {message!r}"
    models, overrides, preset = [], {}, None
    for token in found.group(1).replace(" or model=", " model=").split():
        key, value = token.split("=", 1)
        if key == "model":
            models.append(value)
        elif key.startswith("model_overrides."):
            overrides[key.split(".", 1)[1]] = json.loads(value)
        else:
            assert key == "preset", token
            preset = value
    return models, overrides, preset


@pytest.mark.parametrize("source, target", list(itertools.product(NAMES, NAMES)))
def test_a_refused_warm_start_names_a_model_the_checkpoint_initialises(checkpoints, source, target):
    try:
        init_from_checkpoint(create_model(target, seed=0), checkpoints[source])
        return  # like -> like, or a warm start across architectures (WARM_STARTS)
    except CheckpointError as e:
        message = str(e)
    models, overrides, preset = _hint(message)
    textless_preset = (preset == "elic") if preset else target.startswith("elic")
    for name in models:
        model = create_model(name, seed=0, **overrides)
        init_from_checkpoint(model, checkpoints[source])  # raises if the hint is wrong
        assert (model.config.architecture in TEXTLESS_ARCHITECTURES) == textless_preset, message


def test_only_the_listed_warm_starts_cross_architectures(checkpoints):
    assert set(WARM_STARTS) == {("elic", "taco")}
    with pytest.raises(CheckpointError, match=r"cannot initialise elic from taco \(only elic -> taco "
                                              r"and like -> like\).*--set model=taco-tiny preset=taco$"):
        init_from_checkpoint(create_model("elic-tiny"), checkpoints["taco-tiny"])


def test_the_frozen_base_preset_gives_the_adapter_the_identity_residual():
    """taco-frozen-base reads the architecture it builds (registry entry + overrides): the
    adapter starts as a no-op with the identity residual, TGIC keeps its own, and an override
    ModelConfig refuses is one ConfigError naming the model."""
    from taco.train import load_config
    from taco.train.config import ConfigError
    from taco.train.model_setup import build_training_model

    def built(*extra: str):
        return build_training_model(load_config(None, ["preset=taco-frozen-base", "model=taco-tiny",
                                                       *extra])).config

    assert (built().text_injection, built().residual) == ("adapter", "identity")
    assert built("model_overrides.residual=paper").residual == "paper"  # said: kept
    tgic = built("model_overrides.text_injection=tgic")
    assert (tgic.text_injection, tgic.residual) == ("tgic", "paper")
    with pytest.raises(ConfigError, match=r"^model 'taco-tiny': heads must be an integer"):
        built("model_overrides.heads=0")


def test_a_mistyped_init_from_path_suggests_the_files_beside_it(tmp_path, monkeypatch):
    from taco.train.config import init_from_file

    monkeypatch.chdir(tmp_path)
    save_checkpoint(create_model("elic-tiny"), Path("runs/x/checkpoint.safetensors"))
    with pytest.raises(CheckpointError) as exc:
        init_from_file("runs/x/checkpoint.safetenors")
    assert str(exc.value) == ("init_from: runs/x/checkpoint.safetenors: no such checkpoint file "
                              "(did you mean 'runs/x/checkpoint.safetensors'?)")
    with pytest.raises(CheckpointError, match=r"did you mean 'elic-small-q4'"):  # a name: the built-ins
        init_from_file("elic-smal-q4")
