"""taco.models.fast_codec: the CompressAI layout's band rows, which compositions the fast path codes,
and its decompress's x_hat clamped to [0, 1]."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import taco
import taco.codec
from taco.models import fast_codec


@pytest.fixture(scope="module")
def tiny():
    return taco.create_model("elic-tiny", seed=0)


def _photo(h: int, w: int, channels: int = 3) -> np.ndarray:
    shape = (h, w, channels) if channels > 1 else (h, w)
    return (np.random.default_rng(0).random(shape) * 255).astype(np.uint8)


def test_compressai_layout_band_rows_are_pinned(monkeypatch):
    """The bytes per latent position from which the CompressAI layout's bands follow (8 bytes
    a float64 activation), as taco.compress passes them to band_rows."""
    model = taco.create_model("elic-tiny", seed=0, layout="compressai")
    seen: list[tuple[int, int, int]] = []
    original = fast_codec.band_rows

    def spy(h: int, w: int, per_position: int) -> int:
        seen.append((h, w, per_position))
        return original(h, w, per_position)

    monkeypatch.setattr(fast_codec, "band_rows", spy)
    taco.compress(_photo(64, 64), None, model)
    assert seen == [(4, 4, 8 * (3 * (32 + 2 * 16) + 32 + 3 * 32))]


def test_supports_checks_the_gaussian_chunks():
    """A CompressAI composition whose Gaussian conditional reads other parameter chunks than
    scales and means is not one the fast path codes."""
    model = taco.create_model("elic-tiny", seed=0, layout="compressai")
    codec = model.latent_codec
    assert fast_codec.supports(codec)
    codec.latent_codec["y"].latent_codec["y0"].latent_codec["y"].chunks = ("scales",)
    assert not fast_codec.supports(codec)
    with pytest.raises(TypeError, match="which taco cannot code"):
        fast_codec.compress_latent(codec, torch.zeros(1, 32, 4, 4))


def test_fast_decompress_clamps_x_hat(tiny):
    """fast_codec.decompress's x_hat is in [0, 1] (a random model's synthesis is not)."""
    out = fast_codec.compress(tiny, torch.rand(1, 3, 64, 64))
    x_hat = fast_codec.decompress(tiny, out["strings"], out["shape"])["x_hat"]
    assert x_hat.min() >= 0 and x_hat.max() <= 1
    assert (x_hat == 0).any()  # the synthesis had values below 0 (clamped)
