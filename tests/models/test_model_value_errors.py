"""A bad value given to taco.models (a ModelConfig field, create_model's overrides, a registered
backbone's configs, a direct ELIC call) is a ``taco.TacoValueError``: a TacoError
and still the ValueError it was, with the message it had. The callers that turn such a value
into their own error (a checkpoint header's config, a training config) still give their own
class, not this one."""

from __future__ import annotations

import re

import pytest
import torch

from taco.errors import TacoError, TacoValueError
from taco.models import ELIC, ModelConfig, create_model, register_architecture
from taco.models.config import CheckpointError, check_lambdas, check_options
from taco.models.elic import check_input, elic_latent_codec
from taco.models.header import header_config


def refused(message: str):
    """The refusal of a bad value: a TacoValueError whose message starts with ``message``."""
    return pytest.raises(TacoValueError, match="^" + re.escape(message))


def test_the_class_is_both_a_taco_error_and_a_value_error():
    assert issubclass(TacoValueError, TacoError) and issubclass(TacoValueError, ValueError)
    with pytest.raises(ValueError) as caught:  # older `except ValueError` code still catches it
        ModelConfig(N=0)
    assert type(caught.value) is TacoValueError


@pytest.mark.parametrize(("fields", "message"), [
    ({"N": 0}, "N must be an integer 1..65536, got 0"),
    ({"heads": 1.5}, "heads must be an integer 1..65536, got 1.5"),
    ({"groups": "16"}, "groups must be a list of integers 1..65536, got '16'"),
    ({"ctx_hidden": [224]}, "ctx_hidden must be a list of 2 integers 1..65536, got [224]"),
    ({"groups": [1] * 65, "M": 65}, "groups must list 1..64 channel groups, got 65"),
    ({"groups": [16, 16]}, "groups [16, 16] must sum to M=320"),
    ({"text_encoder": None}, "architecture 'taco' is text-guided: it needs text_encoder={'name': ...}"),
    ({"residual": "none"}, "residual must be 'paper' or 'identity', got 'none'"),
    ({"layout": "other"}, "layout must be 'reference' or 'compressai', got 'other'"),
    ({"qualities": "0.1"}, "qualities must be a list of λ values, got '0.1'"),
    ({"qualities": [0.1], "layout": "compressai"},
     "a variable-rate model (qualities) needs layout='reference'"),
    ({"options": ["x"]}, "options must be a mapping of names to values, got ['x']"),
    ({"options": {"depth": 2}}, "architecture 'taco' takes no options, got ['depth']"),
], ids=["N", "heads", "groups type", "ctx_hidden", "too many groups", "groups sum", "text encoder",
        "residual", "layout", "qualities str", "qualities layout", "options list", "builtin options"])
def test_a_model_config_value_it_refuses(fields, message):
    with refused(message):
        ModelConfig(**fields)


@pytest.mark.parametrize(("qualities", "message"), [
    ({0.1}, "qualities must be a list of λ values, got {0.1}"),
    ([], "qualities must list 1..255 λ values, got 0"),
    ([0.1, 0.0], "qualities must be positive λ values, got [0.1, 0.0]"),
    ([0.2, 0.1], "qualities must be strictly increasing (low to high rate), got [0.2, 0.1]"),
], ids=["a set", "none", "zero", "descending"])
def test_qualities_it_refuses(qualities, message):
    with refused(message):
        check_lambdas(qualities)


def test_create_model_with_qualities_it_refuses():
    with refused("qualities must be strictly increasing (low to high rate), got [0.004, 0.001]"):
        create_model("elic-tiny", qualities=[0.004, 0.001])


def test_a_backbone_options_it_refuses():
    with refused("options must not give N, qualities: the config's own fields do"):
        check_options({"N": 8, "qualities": [0.1]}, "mine")
    with refused("options must hold JSON values (numbers, text, lists, mappings), got {'x': nan}"):
        check_options({"x": float("nan")}, "mine")


def test_register_architecture_with_a_config_it_refuses(registry_restored):
    with refused("N must be an integer 1..65536, got 0"):
        register_architecture("refused-config", ELIC, configs={"refused-config-tiny": {"N": 0}})


def test_elic_constructed_with_values_it_refuses():
    with refused("layout must be 'reference' or 'compressai', got 'x'"):
        ELIC(N=8, M=16, groups=[8, 8], layout="x")
    with refused("variable-rate models (qualities) have the reference layout"):
        ELIC(N=8, M=16, groups=[8, 8], layout="compressai", qualities=[0.1, 0.2])
    with refused("channel groups [8, 4] must sum to M=16"):
        elic_latent_codec(8, 16, [8, 4])


def test_images_a_model_call_refuses(tiny_elic):
    with refused("expected images (B, 3, H, W), got (1, 1, 64, 64)"):
        tiny_elic(torch.zeros(1, 1, 64, 64))
    with refused("H and W must be multiples of 64, got (64, 65): pad with "
                 "taco.codec.pad_to_multiple (taco.compress takes any size)"):
        tiny_elic.compress(torch.zeros(1, 3, 64, 65))
    with refused("expected images (B, 3, H, W), got (3, 64, 64)"):
        check_input(torch.zeros(3, 64, 64))


def test_scale_levels_and_latent_sizes_it_refuses(tiny_elic):
    with refused("scale levels must be an integer 2..256, got 1"):
        tiny_elic.set_scale_levels(1)
    with refused("size 64x100 is not a multiple of 64"):
        tiny_elic.latent_shapes(64, 100)


def test_a_checkpoint_header_with_a_bad_config_is_still_a_checkpoint_error():
    """header_config catches the ValueError and names the file: the class callers see is
    CheckpointError, as before, not the TacoValueError underneath."""
    with pytest.raises(CheckpointError) as caught:
        header_config({"config": {"architecture": "elic", "N": 0}}, "model.safetensors")
    assert type(caught.value) is CheckpointError
    assert str(caught.value) == ("model.safetensors: invalid model config in the taco header "
                                 "(N must be an integer 1..65536, got 0)")


def test_training_qualities_it_refuses_are_still_a_config_error():
    from taco.train.config import ConfigError, TrainConfig

    with pytest.raises(ConfigError) as caught:
        TrainConfig(qualities=[0.2, 0.1]).validate()
    assert type(caught.value) is ConfigError
    assert str(caught.value) == ("qualities: qualities must be strictly increasing (low to high "
                                 "rate), got [0.2, 0.1]")
