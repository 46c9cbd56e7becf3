"""What taco checks of a backbone a plugin registers (docs/models.md, "Adding a backbone"), so
that a mistake in it is one clear error where it is made: a g_a that down-samples by other than
its ``latent_scale`` is refused by the encoder (it wrote files no taco decodes: "rANS chunk 1 of
1 decodes to a symbol beyond ..."), a config the class cannot take is refused by
``register_architecture`` (``taco models`` failed as a whole), and a model that is no ELIC or
lacks N, groups, ... is refused when it is built (not at its first compress)."""

from __future__ import annotations

import argparse

import pytest
import torch
from compressai.layers import GDN
from compressai.models.utils import conv, deconv
from torch import nn

import taco
from taco.errors import TacoValueError
from taco.models import MODEL_CONFIGS, register_architecture
from taco.models.architecture import BUILDERS
from taco.models.config import ARCHITECTURES


@pytest.fixture()
def example(registry_restored, load_script):
    """examples/mean_scale_backbone.py imported afresh; its names are taken out after the test."""
    return load_script("examples/mean_scale_backbone.py")


def image() -> torch.Tensor:
    return torch.randint(0, 256, (3, 64, 96), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


def scale8(base: type, latent_scale: int | None) -> type:
    """``base`` with g_a and g_s of three stride-2 layers (8x), declaring ``latent_scale``."""

    class S8(base):  # type: ignore[misc, valid-type]
        def __init__(self, N: int = 16, M: int = 24) -> None:
            super().__init__(N, M)
            self.g_a = nn.Sequential(conv(3, N), GDN(N), conv(N, N), GDN(N), conv(N, M))
            self.g_s = nn.Sequential(deconv(M, N), GDN(N, inverse=True), deconv(N, N),
                                     GDN(N, inverse=True), deconv(N, 3))

    if latent_scale is not None:
        S8.latent_scale = latent_scale
    return S8


def test_a_backbone_that_down_samples_by_other_than_its_latent_scale_is_refused_by_the_encoder(example):
    register_architecture("s8", scale8(example.MeanScaleHyperprior, None), configs={"s8-t": {"N": 16, "M": 24}})
    model = taco.create_model("s8-t")
    with pytest.raises(TypeError) as caught:
        taco.compress(image(), None, model)
    message = str(caught.value)
    assert "S8 analyses a 128x64 (padded) image into y of shape (24, 8, 16)" in message
    assert "latent_shapes(64, 128) declares (24, 4, 8)" in message
    assert "S8.latent_scale (16)" in message and "Adding a backbone" in message

    # declared as it is, the same backbone codes and decodes
    register_architecture("s8", scale8(example.MeanScaleHyperprior, 8), configs={"s8-t": {"N": 16, "M": 24}})
    model = taco.create_model("s8-t")
    x_hat = taco.decompress(taco.compress(image(), None, model), model)
    assert x_hat.size == (96, 64)


def test_a_config_the_class_cannot_take_is_refused_at_registration(example):
    tables = list(ARCHITECTURES), dict(BUILDERS), dict(MODEL_CONFIGS)
    with pytest.raises(TacoValueError, match=r"config 'badcfg-t': architecture 'badcfg' cannot be "
                       r"built with options \{'nope': 1\}: MeanScaleHyperprior\(\) got an unexpected "
                       r"keyword argument 'nope'"):
        register_architecture("badcfg", example.MeanScaleHyperprior,
                              configs={"badcfg-t": {"N": 16, "M": 24, "options": {"nope": 1}}})
    assert (list(ARCHITECTURES), dict(BUILDERS), dict(MODEL_CONFIGS)) == tables  # no table changed


def test_taco_models_lists_the_others_when_a_registered_config_is_refused(example, capsys):
    from taco.cli.models import cmd_models

    def build(config: object) -> nn.Module:
        raise ValueError("no such width")

    register_architecture("badfn", build, configs={"badfn-t": {"N": 16, "M": 24}})
    for as_json in (False, True):
        assert cmd_models(argparse.Namespace(names=[], json=as_json)) == 0
        out, err = capsys.readouterr()
        assert "mean-scale-tiny" in out and "elic-tiny" in out and "badfn-t" not in out
        assert err.splitlines() == ["taco models: badfn-t: left out: model 'badfn-t', registered for "
                                    "architecture 'badfn': its builder refuses the config "
                                    "(ValueError: no such width)"]


class NotElic(nn.Module):
    def __init__(self, N: int = 16, M: int = 24) -> None:
        super().__init__()
        self.g_a = nn.Conv2d(3, M, 1)


def test_a_class_that_is_no_elic_is_refused_at_registration(registry_restored):
    tables = list(ARCHITECTURES), dict(BUILDERS), dict(MODEL_CONFIGS)
    with pytest.raises(TypeError, match=r"NotElic is not a subclass of taco.models.ELIC: .*Adding a backbone"):
        register_architecture("not-elic", NotElic, configs={"not-elic-t": {"N": 16, "M": 24}})
    assert (list(ARCHITECTURES), dict(BUILDERS), dict(MODEL_CONFIGS)) == tables  # no table changed


def test_a_builder_functions_model_that_is_no_elic_is_refused_when_built(registry_restored):
    register_architecture("not-elic", lambda config: NotElic(config.N, config.M),
                          configs={"not-elic-t": {"N": 16, "M": 24}})
    with pytest.raises(TypeError, match=r"NotElic is not a subclass of taco.models.ELIC: .*Adding a backbone"):
        taco.create_model("not-elic-t")


def test_a_backbone_whose_stream_is_over_the_format_bound_is_refused_by_pack(example, monkeypatch):
    """taco's own architectures code at most 1.3 symbols a pixel (under 64 bits a pixel even
    escape-coded); a backbone is not bound so, and pack refuses its stream beyond the bound
    (docs/format.md) rather than writing a file no taco reads."""
    from taco.bitstream import container
    from taco.bitstream.container import TacoFormatError

    monkeypatch.setattr(container, "MAX_PAYLOAD_BITS_PER_PIXEL", 0)
    with pytest.raises(TacoFormatError, match=r"the stream of model 'mean-scale-tiny' exceeds the "
                       r"\.taco format's 0 bits a pixel"):
        taco.compress(image(), None, taco.create_model("mean-scale-tiny"))


def test_a_backbone_that_does_not_set_what_elic_reads_is_refused_when_built(example):
    class NoN(example.MeanScaleHyperprior):
        def __init__(self, N: int = 16, M: int = 24) -> None:
            super().__init__(N, M)
            del self.N, self.groups

    register_architecture("no-n", NoN, configs={"no-n-t": {"N": 16, "M": 24}})
    with pytest.raises(TypeError, match=r"NoN does not set self.N, self.groups: .*Adding a backbone"):
        taco.create_model("no-n-t")


class Lean(taco.models.ELIC):
    """Does not run ELIC.__init__ and sets only what ELIC's methods read: no self.M, no self.layout."""

    def __init__(self, N: int = 16, M: int = 24) -> None:
        nn.Module.__init__(self)
        inner = taco.models.ELIC(N=N, M=M, groups=[M])
        self.N, self.groups = inner.N, inner.groups
        self.g_a, self.g_s, self.latent_codec = inner.g_a, inner.g_s, inner.latent_codec


def test_a_backbone_without_m_or_layout_codes(registry_restored):
    # 8543fcf required self.M and self.layout, which no ELIC method reads: this one was refused
    register_architecture("lean", Lean, configs={"lean-t": {"N": 16, "M": 24}})
    model = taco.create_model("lean-t")
    assert not hasattr(model, "M") and not hasattr(model, "layout")
    x_hat = taco.decompress(taco.compress(image(), None, model), model)
    assert x_hat.size == (96, 64)
