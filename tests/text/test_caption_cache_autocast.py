"""A caption's embedding is computed outside any autocast the caller set: the shared encoder
caches it, and taco.compress reuses it. Encoded under a caller's bf16 autocast and cached, it
gave taco.compress other bytes (the MiniLM coffee crop below, 'a photo of a person in a space
suit'), though compress itself turns autocast off."""

from __future__ import annotations

import torch
from PIL import Image

import taco
from taco.samples import SAMPLES_DIR
from taco.text import model_text_encoder

CAPTION = "a photo of a person in a space suit"


def test_caption_encoded_under_autocast_then_compressed_gives_the_clean_bytes():
    model = taco.load("taco-minilm-small-q4")
    encoder = model_text_encoder(model)
    image = Image.open(SAMPLES_DIR / "skimage-coffee.png").convert("RGB").crop((0, 0, 256, 256))
    encoder.clear_cache()
    clean = encoder.encode([CAPTION]).tokens
    want = taco.compress(image, CAPTION, model)
    encoder.clear_cache()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        under = encoder.encode([CAPTION]).tokens
    assert under.dtype == torch.float32
    assert torch.equal(under, clean)
    assert taco.compress(image, CAPTION, model) == want
