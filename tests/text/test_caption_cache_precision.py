"""Caption tokens computed while a process-wide setting lowered float32 precision
(``torch.set_float32_matmul_precision("medium")``, a common speed tip) are not cached: the
encoder is shared by every thread and model, so once the setting was back every later call with
that caption reused them with no warning and wrote other bytes than a fresh process (1 file in
12 of a service's, until the caption was evicted)."""

from __future__ import annotations

import warnings

import torch

import taco
from taco.draws import reduced_precision_settings

CAPTION = "Heavy traffic stuck on a snowy road while snow falls beside the trees."


class CountingNetwork(torch.nn.Module):
    """The encoder's transformer, counting its runs (each caption not taken from the cache)."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner, self.runs = inner, 0
        for name in ("hidden_size", "vocab_size", "max_positions"):
            setattr(self, name, getattr(inner, name))

    def forward(self, ids, mask):
        self.runs += 1
        return self.inner(ids, mask)


def test_tokens_encoded_under_reduced_precision_are_not_reused_after_it(clean_run):
    run = clean_run(CAPTION, 128)
    model, encoder, image, clean, want = run.model, run.encoder, run.image, run.tokens, run.data
    original = encoder.model
    network = encoder.model = CountingNetwork(original)  # the encoder is shared: put back below
    try:
        torch.set_float32_matmul_precision("medium")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the ReducedPrecisionWarning, as documented
                encoder.encode([CAPTION])
                taco.compress(image, CAPTION, model)
        finally:
            torch.set_float32_matmul_precision("highest")
        assert network.runs == 2  # neither call found the other's tokens
        assert reduced_precision_settings() == []
        after = encoder.encode([CAPTION]).tokens
        assert network.runs == 3  # encoded again, at full precision, and kept from now on
        assert torch.equal(after, clean)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert taco.compress(image, CAPTION, model) == want
        assert network.runs == 3
    finally:
        encoder.model = original
        encoder.clear_cache()
