"""Entropy parameters computed in bands of latent rows (both layouts): bounded memory, same
coding. docs/reliability.md, "Entropy parameters in bands"; the memory it saves is measured by
benchmarks/memory_model.py, not here."""

from __future__ import annotations

import pytest
import torch

import taco
from taco.codec import coding_codec
from taco.memory import spans
from taco.models import create_model, entropy, fast_codec
from taco.models.entropy import band_rows, pass_parameters

# (architecture, overrides): both entropy layouts, a variable-rate codec, and TACO
CODECS = {
    "reference": ("elic-tiny", {}),
    "compressai": ("elic-tiny", {"layout": "compressai"}),
    "variable-rate": ("elic-tiny", {"qualities": [0.001, 0.004, 0.016]}),
    "taco": ("taco-tiny", {}),
}


def _code(codec, y, quality):
    out = fast_codec.compress_latent(codec, y, quality)
    shape = dict(out["shape"])
    return out, shape


@pytest.mark.parametrize("kind", CODECS)
def test_bands_code_what_one_band_codes(kind, monkeypatch):
    """A latent coded in many bands (forced: 12 rows each) gives the bytes and y_hat of the whole
    latent computed at once, and either decoder decodes either file exactly."""
    name, overrides = CODECS[kind]
    model = create_model(name, seed=3, **overrides)
    codec = coding_codec(model)
    quality = model.default_quality
    y = torch.randn(1, model.config.M, 52, 36, generator=torch.Generator().manual_seed(0)) * 4
    whole, whole_shape = _code(codec, y, quality)
    monkeypatch.setattr(entropy, "BAND_BYTES", 1)
    if kind != "compressai":
        assert codec.band_rows(52, 36) == 12  # 5 bands: 12, 12, 12, 12, 4 rows
    banded, banded_shape = _code(codec, y, quality)
    decoded_in_bands = fast_codec.decompress_latent(codec, whole["strings"], whole_shape)["y_hat"]
    monkeypatch.setattr(entropy, "BAND_BYTES", 2**40)
    decoded_whole = fast_codec.decompress_latent(codec, banded["strings"], banded_shape)["y_hat"]

    assert bytes(banded["strings"][0][0]) == bytes(whole["strings"][0][0])
    assert torch.equal(banded["y_hat"], whole["y_hat"])
    assert torch.equal(decoded_in_bands, whole["y_hat"])
    assert torch.equal(decoded_whole, banded["y_hat"])


def test_a_file_coded_in_bands_round_trips_through_taco(monkeypatch):
    """Through the public API, bands forced in the encoder and the decoder (28 latent rows: 3
    bands): the same file and pixels as without bands."""
    import numpy as np

    model = create_model("elic-tiny", seed=0)
    image = torch.rand(1, 3, 448, 128, generator=torch.Generator().manual_seed(1))
    reference = taco.compress(image, None, model)
    pixels = np.asarray(taco.decompress(reference, model))
    monkeypatch.setattr(entropy, "BAND_BYTES", 1)
    data = taco.compress(image, None, model)
    assert data == reference
    assert np.array_equal(np.asarray(taco.decompress(data, model)), pixels)


def test_band_rows_are_even_and_cover_the_latent():
    assert band_rows(100, 50, per_position=8) == 100  # fits: one band, computed as before
    for per_position in (10_000, 100_000, 10**9):
        rows = band_rows(1000, 300, per_position)
        assert rows % 2 == 0 and rows >= 12
        assert rows * 300 * per_position <= entropy.BAND_BYTES or rows == 12


def test_pass_parameters_assemble_indexes_and_means_band_by_band():
    model = create_model("elic-tiny", seed=0)
    gc = model.latent_codec.gaussian_conditional
    scales = torch.rand(1, 4, 30, 5, dtype=torch.float64) * 10
    means = torch.randn(1, 4, 30, 5, dtype=torch.float64)
    calls = []

    def params(a, e):
        calls.append((a, e))
        return scales[..., a:e, :], means[..., a:e, :]

    idx, m = pass_parameters(params, spans(30, 12), gc)
    assert calls == [(0, 12), (12, 24), (24, 30)]
    assert idx.dtype == torch.int32 and torch.equal(idx, entropy.scale_indexes(gc, scales))
    assert torch.equal(m, means)
    with pytest.raises(AssertionError):  # training (scales, autograd) computes whole latents
        pass_parameters(params, spans(30, 12), None)
