"""A model's text encoder is looked up in one place (taco.text.model_text_encoder_spec /
model_text_encoder), for the codec, training and ``taco bench`` alike."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import torch

import taco
from taco.bench.systems import bench_text_encoder
from taco.models import ELIC
from taco.text import get_text_encoder, model_text_encoder, model_text_encoder_spec
from taco.train.caption_embeddings import text_inputs
from taco.train.config import TrainConfig

NO_ENCODER = "taco-tiny: a text-guided model whose config names no text encoder"


def test_a_model_that_reads_no_text_has_none(tiny_elic):
    assert model_text_encoder_spec(tiny_elic) is None
    assert model_text_encoder(tiny_elic) is None
    bare = ELIC(N=16, M=32, groups=(16, 16), ctx_hidden=(16, 16))  # no config: none is read
    assert model_text_encoder(bare) is None


def test_a_text_guided_model_gets_the_encoder_its_config_names(tiny_taco):
    spec = model_text_encoder_spec(tiny_taco)
    assert spec == tiny_taco.config.text_encoder and spec is not tiny_taco.config.text_encoder
    name = spec.pop("name")
    shared = model_text_encoder(tiny_taco)
    assert shared is get_text_encoder(name, **spec)
    own = model_text_encoder(tiny_taco, shared=False)
    assert own is not shared and type(own) is type(shared)
    assert bench_text_encoder(tiny_taco) is not shared  # bench's is a private instance


def test_every_user_refuses_a_config_that_names_none(tiny_taco, sample_image):
    """A text-guided model whose config lost its text encoder: the same ValueError from the
    lookup, from taco.compress and from training's text inputs."""
    model = copy.copy(tiny_taco)  # its own attributes, the same modules
    model.config = dataclasses.replace(tiny_taco.config)
    model.config.text_encoder = None
    with pytest.raises(ValueError, match=NO_ENCODER):
        model_text_encoder_spec(model)
    with pytest.raises(ValueError, match=NO_ENCODER):
        taco.compress(sample_image.crop((0, 0, 64, 64)), "a cat", model)
    with pytest.raises(ValueError, match=NO_ENCODER):
        text_inputs(model, TrainConfig(), ["a cat"], torch.device("cpu"))
