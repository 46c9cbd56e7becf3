"""Review EXT (session 38): what a researcher adding a backbone met (docs/models.md, "Adding a
backbone"): ELIC's inherited ``analysis`` with a plain g_a, the variable-rate gains kept under
another name than ``latent_codec.gains``, and an ``ImageCurve`` built from plain lists."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture()
def example(registry_restored, load_script):
    """examples/mean_scale_backbone.py imported afresh (it registers "mean-scale");
    ``registry_restored`` takes every registration of the test out after it."""
    return load_script("examples/mean_scale_backbone.py")


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


def test_an_image_curve_takes_plain_lists():
    """ImageCurve(names, [[...]], {"psnr": [[...]]}) failed with AttributeError "'list' object
    has no attribute 'ndim'"; it now holds float arrays and bootstraps as from arrays."""
    from taco.errors import TacoValueError
    from taco.evaluation.bdrate import ImageCurve, bd_bootstrap

    names = ["a", "b", "c", "d"]
    rate = [[0.1, 0.2, 0.4, 0.8], [0.12, 0.25, 0.5, 0.9], [0.08, 0.18, 0.35, 0.7], [0.1, 0.22, 0.45, 0.85]]
    psnr = [[26, 29, 32, 35], [25, 28, 31, 34], [27, 30, 33, 36], [26, 28.5, 31.5, 34.5]]
    curve = ImageCurve(names, rate, {"psnr": psnr})
    assert curve.images == tuple(names)
    assert isinstance(curve.rate, np.ndarray) and curve.rate.dtype == np.float64
    assert curve.quality["psnr"].dtype == np.float64  # ints taken as float64
    cheaper = ImageCurve(names, [[0.8 * r for r in row] for row in rate], {"psnr": psnr})
    from_arrays = bd_bootstrap(ImageCurve(tuple(names), np.array(rate), {"psnr": np.array(psnr, float)}),
                               ImageCurve(tuple(names), 0.8 * np.array(rate), {"psnr": np.array(psnr, float)}),
                               "psnr", resamples=50, seed=0)
    from_lists = bd_bootstrap(curve, cheaper, "psnr", resamples=50, seed=0)
    assert from_lists.bd_rate.value == pytest.approx(-20.0) == from_arrays.bd_rate.value
    assert curve.select(["b", "a"]).rate.tolist() == [rate[1], rate[0]]
    with pytest.raises(TacoValueError, match="rate must be numbers"):
        ImageCurve(["a"], [["x", "y"]])
    with pytest.raises(TacoValueError, match="psnr has shape"):
        ImageCurve(["a"], [[0.1, 0.2]], {"psnr": [30.0, 31.0]})
