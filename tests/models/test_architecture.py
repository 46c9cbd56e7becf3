"""taco.models.architecture: what build_model checks of a new backbone before it is used."""

from __future__ import annotations

import pytest
import torch

import taco.models.architecture as architecture
from taco.models.registry import MODEL_CONFIGS


def _backbone_with(monkeypatch, codec_factory):
    """Make build_model's "elic" branch build an ELIC subclass whose latent codec is
    ``codec_factory(reference_codec)``: a new backbone, as docs/models.md describes one."""

    class Backbone(architecture.ELIC):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.latent_codec = codec_factory(self.latent_codec)

    monkeypatch.setattr(architecture, "ELIC", Backbone)


def test_a_codec_that_codes_itself_without_a_method_is_refused_at_build_time(monkeypatch, one_call_codec):
    class NoSymbolCount(one_call_codec):
        num_symbols = None  # the one method left out

    _backbone_with(monkeypatch, NoSymbolCount)
    with pytest.raises(TypeError, match=r"Backbone\.latent_codec \(NoSymbolCount\).*no num_symbols"):
        architecture.build_model(MODEL_CONFIGS["elic-tiny"])


def test_a_codec_taco_cannot_code_is_refused_at_build_time(monkeypatch):
    class MeanScale(torch.nn.Module):  # a codec of its own, without one_stream
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

    _backbone_with(monkeypatch, MeanScale)
    with pytest.raises(TypeError, match=r"Backbone\.latent_codec is a MeanScale.*one_stream = True"):
        architecture.build_model(MODEL_CONFIGS["elic-tiny"])


def test_a_codec_that_codes_itself_with_every_method_is_built(monkeypatch, one_call_codec):
    _backbone_with(monkeypatch, one_call_codec)
    model = architecture.build_model(MODEL_CONFIGS["elic-tiny"])
    assert isinstance(model.latent_codec, one_call_codec)
    out = model(torch.rand(1, 3, 64, 64))  # training's call goes through the codec's own forward
    assert out["x_hat"].shape == (1, 3, 64, 64) and out["likelihoods"]


@pytest.mark.parametrize("name", sorted(MODEL_CONFIGS))
def test_every_registered_architecture_passes_the_latent_codec_check(name):
    architecture.build_on_meta(MODEL_CONFIGS[name])  # build_model's check raises otherwise
