"""A caption's embedding is computed outside any autocast the caller set: the shared encoder
caches it, and taco.compress reuses it. Encoded under a caller's bf16 autocast and cached, it
gave taco.compress other bytes (the MiniLM coffee crop below, 'a photo of a person in a space
suit'), though compress itself turns autocast off."""

from __future__ import annotations

import torch

import taco

CAPTION = "a photo of a person in a space suit"


def test_caption_encoded_under_autocast_then_compressed_gives_the_clean_bytes(clean_run):
    run = clean_run(CAPTION, 256)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        under = run.encoder.encode([CAPTION]).tokens
    assert under.dtype == torch.float32
    assert torch.equal(under, run.tokens)
    assert taco.compress(run.image, CAPTION, run.model) == run.data
