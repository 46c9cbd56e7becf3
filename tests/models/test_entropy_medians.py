"""The reference layout's forward rounds z about the entropy bottleneck's medians, as the coder does.

A fresh model's medians are 0, where round(z - medians) + medians and round(z) agree: here the
quantiles are moved by +0.3 so that the forward's z_hat (and the y_hat that h_s(z_hat) leads to)
must be the coder's for the test to pass.
"""

from __future__ import annotations

import pytest
import torch

from taco.models import create_model
from taco.models.entropy import ReferenceLatentCodec


def shifted(model):
    eb = model.latent_codec.entropy_bottleneck
    with torch.no_grad():
        eb.quantiles += 0.3
    model.update(force=True)
    medians = eb._get_medians().detach()
    assert torch.allclose(medians, torch.full_like(medians, 0.3), atol=1e-6)  # fresh: 0
    return model.eval()


def agree(codec, y, quality=None):
    with torch.no_grad():
        fwd = codec(y, quality)
        enc = codec.compress(y, quality)
        dec = codec.decompress(enc["strings"], enc["shape"])
    assert torch.equal(fwd["y_hat"], enc["y_hat"])
    assert torch.equal(dec["y_hat"], enc["y_hat"])
    # z_hat itself: the coder's z symbols + medians (what the decoder hands to h_s)
    eb = codec.entropy_bottleneck
    with torch.no_grad():
        gains = codec.gain_vectors(quality)
        yg = y if gains is None else y * gains.y
        z = codec.h_a(yg.contiguous())
        if gains is not None:
            z = z * gains.z
        medians = eb._get_medians().detach().reshape(1, -1, 1, 1)
        coder_z_hat = torch.round(z - medians) + medians
        assert not torch.equal(coder_z_hat, torch.round(z))  # the medians matter here


def test_single_rate_forward_rounds_z_about_the_medians():
    model = create_model("elic-tiny", seed=3)
    assert model.config.layout == "reference"
    assert isinstance(model.latent_codec, ReferenceLatentCodec)
    model = shifted(model)
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        y = model.analysis(x)
    agree(model.latent_codec, y)


@pytest.mark.parametrize("quality", [1, 2, 3])
def test_variable_rate_forward_rounds_z_about_the_medians(quality):
    model = create_model("elic-tiny", seed=4, qualities=[0.0004, 0.0016, 0.009])
    assert model.config.layout == "reference"
    model = shifted(model)
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        y = model.analysis(x)
    agree(model.latent_codec, y, quality)
