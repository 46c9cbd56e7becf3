"""A backbone whose latent codec codes z at another size than its ``latent_shapes`` declares
(z at y / 2 under the inherited latent_shapes, z at y / 4) is refused by the encoder, naming the
class: it compressed (exit status 0) into a file no taco decodes ("corrupt .taco file: rANS
chunk 1 of 1 decodes to a symbol beyond ...")."""

from __future__ import annotations

import pytest
import torch
from compressai.models.utils import conv, deconv
from torch import nn

import taco
from taco.models import register_architecture


def image() -> torch.Tensor:
    return torch.randint(0, 256, (3, 64, 96), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


@pytest.fixture()
def example(registry_restored, load_script):
    return load_script("examples/mean_scale_backbone.py")


def hyper_at_half(base: type) -> type:
    """``base`` whose h_a down-samples y by 2 (one stride-2 layer) and h_s up by 2, keeping the
    inherited latent_shapes (z at y / 4)."""

    class HalfZ(base):  # type: ignore[misc, valid-type]
        def __init__(self, N: int = 16, M: int = 24) -> None:
            super().__init__(N, M)
            codec = self.latent_codec
            codec.h_a = nn.Sequential(conv(M, N, kernel_size=3, stride=1), nn.LeakyReLU(),
                                      conv(N, N, kernel_size=5, stride=2))
            codec.h_s = nn.Sequential(deconv(N, M, kernel_size=5, stride=2), nn.LeakyReLU(),
                                      conv(M, 2 * M, kernel_size=3, stride=1))

    return HalfZ


def test_a_codec_that_codes_z_at_another_size_than_latent_shapes_is_refused(example):
    register_architecture("half-z", hyper_at_half(example.MeanScaleHyperprior),
                          configs={"half-z-t": {"N": 16, "M": 24}})
    model = taco.create_model("half-z-t")
    with pytest.raises(TypeError) as caught:
        taco.compress(image(), None, model)
    message = str(caught.value)
    assert message.startswith("HalfZ: its latent codec codes z at (2, 4) but latent_shapes "
                              "declares (1, 2)")
    assert "override latent_shapes" in message and "Adding a backbone" in message
    with pytest.raises(TypeError, match="HalfZ: its latent codec codes z at"):
        taco.compress_batch([image()], None, model)


def test_the_same_codec_with_latent_shapes_overridden_is_not_refused(example):
    class Declared(hyper_at_half(example.MeanScaleHyperprior)):  # type: ignore[misc]
        def latent_shapes(self, height, width, quality=None):
            shape = super().latent_shapes(height, width, quality)
            h, w = shape["y"][0][1:]
            shape["hyper"] = torch.Size([h // 2, w // 2])
            return shape

    register_architecture("half-z", Declared, configs={"half-z-t": {"N": 16, "M": 24}})
    assert len(taco.compress(image(), None, taco.create_model("half-z-t"))) > 0
