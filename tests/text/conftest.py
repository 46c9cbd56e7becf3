"""What the caption-cache tests compare with: a caption's tokens and a crop's bytes encoded at
full precision, each from a cleared cache, by the small MiniLM model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from PIL import Image

import taco
from taco.samples import SAMPLES_DIR
from taco.text import model_text_encoder


@dataclass
class CleanRun:
    model: Any
    encoder: Any  # the model's shared text encoder, its cache cleared
    image: Image.Image  # the coffee photo's top-left crop
    tokens: torch.Tensor  # the caption's tokens
    data: bytes  # taco.compress(image, caption, model)


@pytest.fixture
def clean_run() -> Callable[[str, int], CleanRun]:
    """``clean_run(caption, side)``: the :class:`CleanRun` of ``caption`` and a ``side`` px crop."""

    def make(caption: str, side: int) -> CleanRun:
        model = taco.load("taco-minilm-small-q4")
        encoder = model_text_encoder(model)
        image = Image.open(SAMPLES_DIR / "skimage-coffee.png").convert("RGB").crop((0, 0, side, side))
        encoder.clear_cache()
        tokens = encoder.encode([caption]).tokens
        data = taco.compress(image, caption, model)
        encoder.clear_cache()
        return CleanRun(model, encoder, image, tokens, data)

    return make
