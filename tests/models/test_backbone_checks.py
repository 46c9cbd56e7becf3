"""What taco checks of a backbone a plugin registers (docs/models.md, "Adding a backbone"), so
that a mistake in it is one clear error where it is made: a g_a that down-samples by other than
its ``latent_scale`` is refused by the encoder (it wrote files no taco decodes: "rANS chunk 1 of
1 decodes to a symbol beyond ..."), a config the class cannot take is refused by
``register_architecture`` (``taco models`` failed as a whole), and a model that is no ELIC or
lacks N, groups, ... is refused when it is built (not at its first compress). A backbone that
keeps ELIC's inherited ``analysis`` with a plain g_a codes, and variable-rate gains kept under
another name than ``latent_codec.gains`` are refused naming where they are read."""

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


def test_a_backbone_keeping_elics_analysis_with_a_plain_g_a_trains_and_codes(example, sample_image):
    """The guide says a backbone sets N, groups, g_a, g_s and latent_codec; one that keeps
    ELIC's ``analysis`` with an nn.Sequential g_a failed in its first forward and compress with
    ``TypeError: Sequential.forward() got an unexpected keyword argument 'halo'`` (ELIC.analysis
    passed AnalysisTransform's stripe arguments to any g_a). Such a g_a is now called as
    ``g_a(x)``, the whole image, whatever ``stripe_rows``: the example's own y."""
    import taco
    from taco.models import ELIC, register_architecture

    class KeepsAnalysis(example.MeanScaleHyperprior):
        analysis = ELIC.analysis

    register_architecture("keeps-analysis", KeepsAnalysis, textless=True,
                          configs={"keeps-analysis-tiny": {"N": 16, "M": 16}})
    model = taco.create_model("keeps-analysis-tiny").eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        y = model.analysis(x)
        assert torch.equal(y, model.g_a(x))
        assert torch.equal(model.analysis(x, stripe_rows=1), y)
        assert model(x)["x_hat"].shape == (1, 3, 64, 64)  # training's call
    image = sample_image.crop((0, 0, 96, 64))
    data = taco.compress(image, None, model)
    assert taco.decompress(data, model).size == (96, 64)


def test_elics_own_analysis_still_stripes():
    """ELIC's AnalysisTransform still gets the stripes (and the model's halo): the same y."""
    from taco.models import ELIC

    model = ELIC(N=8, M=16, groups=[4, 4, 8]).eval()
    x = torch.rand(1, 3, 128, 64)
    calls = []
    forward = model.g_a.forward
    model.g_a.forward = lambda *a, **k: calls.append((a[1:], k)) or forward(*a, **k)
    with torch.no_grad():
        torch.testing.assert_close(model.analysis(x, stripe_rows=4), model.analysis(x))
    assert calls == [((4,), {"halo": model.analysis_halo}), ((None,), {"halo": model.analysis_halo})]


def variable_rate(example, gains_attr: str):
    """A variable-rate backbone whose codec keeps its QualityGains as ``gains_attr``."""
    from taco.models.gains import QualityGains

    class Codec(example.MeanScaleCodec):
        def __init__(self, N, M, qualities):
            super().__init__(N, M)
            setattr(self, gains_attr, QualityGains(qualities, M, N))

        def gain_vectors(self, quality):
            return getattr(self, gains_attr).vectors(quality)

    class VR(example.MeanScaleHyperprior):
        def __init__(self, N=16, M=16, qualities=None):
            super().__init__(N, M)
            self.latent_codec = Codec(N, M, qualities)

    return VR


QUALITIES = [0.001, 0.004, 0.015]


def test_gains_kept_elsewhere_are_refused_naming_latent_codec_gains(example):
    """With its gains not at ``latent_codec.gains`` (where ELIC's ``qualities`` reads them),
    the model's qualities are None, and the refusal said to put the model's qualities in the
    config, where they already were. It now says where they are read and the two ways out."""
    import taco
    from taco.errors import BackboneError
    from taco.models import register_architecture

    register_architecture("vr-elsewhere", variable_rate(example, "qgains"), textless=True,
                          configs={"vr-elsewhere-tiny": {"N": 16, "M": 16, "qualities": QUALITIES}})
    with pytest.raises(BackboneError) as info:
        taco.create_model("vr-elsewhere-tiny")
    message = str(info.value)
    assert "put the model's qualities in the config" not in message
    assert "qualities are None from a config with qualities [0.001, 0.004, 0.015]" in message
    assert "keep a taco.models.gains.QualityGains as latent_codec.gains" in message
    assert "override the qualities property" in message
    assert "\n" not in message


def test_gains_at_latent_codec_gains_or_an_overridden_qualities_build(example):
    """The two ways the refusal names both build a variable-rate model."""
    import taco
    from taco.models import register_architecture

    register_architecture("vr-gains", variable_rate(example, "gains"), textless=True,
                          configs={"vr-gains-tiny": {"N": 16, "M": 16, "qualities": QUALITIES}})
    assert taco.create_model("vr-gains-tiny").qualities == tuple(QUALITIES)

    class Overrides(variable_rate(example, "qgains")):
        @property
        def qualities(self):
            return tuple(self.latent_codec.qgains.lambdas)

    register_architecture("vr-override", Overrides, textless=True,
                          configs={"vr-override-tiny": {"N": 16, "M": 16, "qualities": QUALITIES}})
    model = taco.create_model("vr-override-tiny")
    assert model.qualities == tuple(QUALITIES) and model.default_quality == 2


def test_other_qualities_keep_the_config_message(example):
    """A model with qualities other than its config's (not None) is still told to put them in
    the config."""
    import taco
    from taco.errors import BackboneError
    from taco.models import register_architecture

    VR = variable_rate(example, "gains")

    def build(config):
        return VR(config.N, config.M, [0.002, 0.008])

    register_architecture("vr-other", build, textless=True,
                          configs={"vr-other-tiny": {"N": 16, "M": 16, "qualities": QUALITIES}})
    with pytest.raises(BackboneError, match="put the model's qualities in the config"):
        taco.create_model("vr-other-tiny")
