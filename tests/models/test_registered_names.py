"""The names a backbone registers and what taco says of them: a config name that checkpoints and
``.taco`` files cannot carry is refused when registered (and a training ``model_id`` before step
1); an architecture's name points to its models; a keyword the config lacks is a value error, not a
checkpoint's; a checkpoint the backbone's new code refuses says so, not "invalid"; a name taco does
not know (a backbone whose module was not named) points to TACO_PLUGINS."""

from __future__ import annotations

import json

import pytest

from taco.errors import TacoValueError, TacoWarning
from taco.models import (
    ELIC,
    MODEL_CONFIGS,
    CheckpointError,
    create_model,
    describe_model,
    load,
    register_architecture,
    save_checkpoint,
)
from taco.models.registry import plugin_hint, unknown_model_message
from taco.resolve import resolve_model
from taco.train.config import ConfigError, load_config, unknown_model_text


class Versioned(ELIC):
    """ELIC at a tiny width with a version of its code in its options (docs/models.md,
    "Changing a backbone's code")."""

    def __init__(self, N: int, M: int, version: int = 1) -> None:
        if version != 1:
            raise ValueError(f"versioned version {version} is not implemented")
        super().__init__(N=N, M=M, groups=[M // 2, M - M // 2], ctx_hidden=[16, 16])


class VersionTwo(Versioned):
    """The backbone's next code, which no longer implements version 1."""

    def __init__(self, N: int, M: int, version: int = 2) -> None:
        if version != 2:
            raise ValueError(f"versioned version {version} is no longer implemented")
        ELIC.__init__(self, N=N, M=M, groups=[M // 2, M - M // 2], ctx_hidden=[16, 16])


@pytest.fixture()
def versioned(registry_restored):
    register_architecture("versioned", Versioned,
                          configs={"versioned-tiny": {"N": 16, "M": 32, "options": {"version": 1}}})
    return "versioned-tiny"


@pytest.mark.parametrize(("name", "problem"), [
    ("", "it must be a non-empty string"),
    ("mine\ttiny", "it has unprintable characters"),
    ("q" * 256, "it is longer than 255 bytes"),
])
def test_a_config_name_no_file_can_carry_is_refused_when_registered(registry_restored, name, problem):
    with pytest.raises(TacoValueError, match=problem):
        register_architecture("mine", Versioned, configs={name: {"N": 16, "M": 32}})
    assert name not in MODEL_CONFIGS and "mine" not in MODEL_CONFIGS


@pytest.mark.parametrize(("model_id", "problem"), [
    ("q" * 256, "it is longer than 255 bytes"), ("a\tb", "it has unprintable characters")])
def test_a_training_model_id_no_file_can_carry_is_refused_before_training(model_id, problem):
    with pytest.raises(ConfigError, match=f"^model_id '.*: {problem}"):
        load_config(None, ["model=elic-tiny", f"model_id={json.dumps(model_id)}"])
    assert load_config(None, ["model=elic-tiny", "model_id=" + "q" * 255]).model_id == "q" * 255


def test_an_architecture_name_points_to_its_models(versioned):
    with pytest.raises(TacoValueError) as refused:
        create_model("versioned")
    assert str(refused.value) == "'versioned' is an architecture; create one of its models: versioned-tiny"
    # taco's own architectures are models of the same name
    assert create_model("elic", seed=None).config.architecture == "elic"


def test_an_unknown_name_lists_models_and_a_trained_name_points_to_load():
    with pytest.raises(TacoValueError, match=r"^unknown model 'nope'; models: elic, .*TACO_PLUGINS"):
        create_model("nope")
    with pytest.raises(TacoValueError, match=r"^'elic-small-q4' is a trained model: load it with "
                       r"taco.load\('elic-small-q4'\).*did you mean 'elic-small'"):
        create_model("elic-small-q4")


def test_a_keyword_the_config_lacks_is_a_value_error_not_a_checkpoint_error(versioned):
    with pytest.raises(TacoValueError) as refused:
        create_model(versioned, version=2)
    assert not isinstance(refused.value, CheckpointError)
    assert "unknown model config fields: ['version']" in str(refused.value)


def test_a_checkpoint_the_backbones_new_code_refuses_says_so(versioned, tmp_path):
    path = save_checkpoint(create_model(versioned), tmp_path / "run1.safetensors")
    with pytest.warns(TacoWarning, match=r"architecture 'versioned' registered again: its builder "
                      r".*Versioned is replaced by .*VersionTwo"):  # new code, another class
        register_architecture("versioned", VersionTwo,
                              configs={"versioned-tiny": {"N": 16, "M": 32, "options": {"version": 2}}})
    expected = (f"{path}: the registered architecture 'versioned' "
                f"({VersionTwo.__module__}.VersionTwo) cannot build this checkpoint's config: "
                "versioned version 1 is no longer implemented")
    with pytest.raises(CheckpointError) as refused:
        load(path)
    assert str(refused.value) == expected
    with pytest.raises(CheckpointError) as described:
        describe_model(path)
    assert str(described.value) == expected


def test_a_file_of_a_backbone_registered_again_decodes_by_its_name(versioned):
    """taco.decompress(data) remembers the fingerprint each name built, to refuse files of other
    weights without building them again; a backbone registered again builds other weights under
    the same name, and its files decode (they were refused as made with other weights)."""
    import numpy as np

    import taco

    image = (np.random.default_rng(0).random((32, 32, 3)) * 255).astype("uint8")
    first = taco.compress(image, None, create_model(versioned, seed=0))
    assert taco.decompress(first).size == (32, 32)
    register_architecture("versioned", Versioned,
                          configs={"versioned-tiny": {"N": 16, "M": 48, "options": {"version": 1}}})
    second = taco.compress(image, None, create_model(versioned, seed=0))
    assert taco.decompress(second).size == (32, 32)
    with pytest.raises(taco.TacoFormatError, match="made with a checkpoint's weights of 'versioned-tiny'"):
        taco.decompress(first)  # the name builds other weights now


def test_a_name_taco_does_not_know_points_to_taco_plugins(monkeypatch):
    monkeypatch.delenv("TACO_PLUGINS", raising=False)
    hint = plugin_hint()
    assert hint == "a registered backbone? import its module (or name it in TACO_PLUGINS)"
    assert unknown_model_message("mine-tiny").endswith(f"; {hint}")
    assert unknown_model_text("mine-tiny").endswith(f"; {hint}")
    with pytest.raises(CheckpointError) as named:  # the name a .taco file gives
        resolve_model("mine-tiny", names_only=True)
    assert str(named.value) == (
        "this file names model 'mine-tiny', which is not a built-in model: decode it with the "
        "model that made it: taco decompress --model FILE, or in Python "
        f"taco.decompress(data, taco.load(FILE)); {hint}")  # the fix first, the hint last
    monkeypatch.setenv("TACO_PLUGINS", "json")  # a module that registers no backbone
    assert plugin_hint() == "a registered backbone? TACO_PLUGINS=json registers none of that name"
    assert unknown_model_message("mine-tiny").endswith(plugin_hint())
