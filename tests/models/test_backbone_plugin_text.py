"""A text-guided backbone plugin (docs/models.md, "Adding a backbone", ``textless=False``) as a
researcher writes one (review BX): the worked example's mean-scale hyperprior with its y
modulated by the caption (FiLM). ``taco bench`` hands it the tokens (the pending caption is
TACO's own), its text parameter may have any name, a forward with other keys, a g_a with other
channels than M and a textless config naming a text encoder are each one clear error, and the
bench's same-backbone check compares a plugin's N and M, not ELIC's default groups."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
import torch
from torch import nn

from taco.errors import TacoValueError

PLUGIN = "examples/mean_scale_backbone.py"


def film_class(example: ModuleType) -> type:
    """The example's backbone, text-guided: y * (1 + gain) + bias from the caption's mean token
    (``clip-tiny``: 32 wide). Its text parameter is named ``caption``, and its analysis reads the
    tokens' ``.mask``: a caption still being encoded (TACO's) has none."""

    class FilmMeanScale(example.MeanScaleHyperprior):
        uses_text = True

        def __init__(self, N: int = 16, M: int = 24) -> None:
            super().__init__(N, M)
            self.film = nn.Linear(32, 2 * M)

        def analysis(self, x: Any, caption: Any = None, *, stripe_rows: int | None = None) -> Any:
            y = self.g_a(x)
            if caption is not None:
                keep = caption.mask.unsqueeze(-1).to(y.dtype)
                pooled = (caption.tokens.to(y.dtype) * keep).sum(1) / keep.sum(1).clamp(min=1)
                gain, bias = self.film(pooled).chunk(2, -1)
                y = y * (1 + gain[..., None, None]) + bias[..., None, None]
            return y

        def forward(self, x: Any, caption: Any = None, quality: int | None = None) -> dict[str, Any]:
            out = self.latent_codec(self.analysis(x, caption), quality)
            return {"x_hat": self.g_s(out["y_hat"]), "likelihoods": out["likelihoods"]}

        @torch.no_grad()
        def compress(self, x: Any, caption: Any = None, quality: int | None = None) -> dict[str, Any]:
            out = self.latent_codec.compress(self.analysis(x, caption), quality)
            return {"strings": out["strings"], "shape": out["shape"]}

    return FilmMeanScale


@pytest.fixture()
def example(registry_restored, load_script):
    """examples/mean_scale_backbone.py imported afresh ("mean-scale", "mean-scale-tiny": N=32,
    M=48); ``registry_restored`` takes what a test registers out after it."""
    return load_script(PLUGIN)


@pytest.fixture()
def film(example):
    """The text-guided class, registered as "film-ms" with "film-ms-tiny" at the example's
    widths (and, unlike it, one group of M)."""
    from taco.models import register_architecture

    cls = film_class(example)
    register_architecture("film-ms", cls, textless=False, configs={"film-ms-tiny": {
        "N": 32, "M": 48, "groups": [48], "text_encoder": {"name": "clip-tiny"}}})
    return cls


def test_a_text_parameter_of_any_name_is_taken_by_position(film, example):
    """taco hands the text by position only: a second parameter named ``caption`` was refused as
    "takes no text"; it is accepted (the fixture registered it), and a keyword-only one is not."""
    from taco.models import create_model, register_architecture

    assert create_model("film-ms-tiny").uses_text

    class KeywordOnly(film):
        def forward(self, x: Any, *, caption: Any = None, quality: int | None = None) -> Any:
            return super().forward(x, caption, quality)

    with pytest.raises(TacoValueError, match=r"KeywordOnly.forward \(.*\) cannot take the text"):
        register_architecture("film-kw", KeywordOnly, textless=False)


def test_a_method_is_checked_against_the_call_taco_makes(film):
    """Any name but quality and stripe_rows passed as the text (review R3 1): a forward and compress
    whose second parameter is a quality named ``q`` took taco's text as that quality and failed
    mid-training ("forward() got an unexpected keyword argument 'quality'"). Each method is now
    bound to the call taco makes, ``(x, text, quality=...)`` / ``(x, text, stripe_rows=...)``:
    a method that cannot take it is refused at registration, in one line naming it, why, and
    the call; one that takes ``*args, **kwargs`` passes."""
    from taco.models import create_model, register_architecture

    class QualityNamedQ(film):
        def forward(self, x: Any, q: int | None = None) -> Any:
            return super().forward(x, None, q)

        def compress(self, x: Any, q: int | None = None) -> Any:
            return super().compress(x, None, q)

    with pytest.raises(TacoValueError) as refused:
        register_architecture("film-q", QualityNamedQ, textless=False)
    message = str(refused.value)
    assert len(message.splitlines()) == 1
    assert ("QualityNamedQ.forward (test_a_method_is_checked_against_the_call_taco_makes.<locals>."
            "QualityNamedQ.forward: got an unexpected keyword argument 'quality') and "
            "QualityNamedQ.compress (") in message
    assert "cannot take the text as taco passes it" in message
    assert "is called forward(x, text, quality=...), compress(x, text, quality=...), " \
           "analysis(x, text, stripe_rows=...)" in message
    assert "analysis" not in message.split(" cannot take")[0]

    class ExtraRequired(film):
        def analysis(self, x: Any, caption: Any = None, scale: float = 1.0, *, stripe_rows: int | None,
                     extra: int) -> Any:
            return super().analysis(x, caption, stripe_rows=stripe_rows)

    with pytest.raises(TacoValueError, match=r"ExtraRequired.analysis \(.*: missing a required "
                                             r"argument: 'extra'\) cannot take the text"):
        register_architecture("film-x", ExtraRequired, textless=False)

    class Forwards(film):
        def forward(self, *args: Any, **kwargs: Any) -> Any:
            return super().forward(*args, **kwargs)

    register_architecture("film-args", Forwards, textless=False, configs={"film-args-tiny": {
        "N": 32, "M": 48, "groups": [48], "text_encoder": {"name": "clip-tiny"}}})
    assert create_model("film-args-tiny").uses_text


def test_the_bench_hands_a_text_backbone_tokens_and_times_no_overlap_for_it(film):
    """``taco bench`` timed TACO's overlap (g_a handed the caption still being encoded) for every
    text model: a plugin's analysis, which reads the tokens, failed ("'WaitClock' object has no
    attribute 'mask'"). Only TACO's is timed; the plugin's other stages are, and the table shows
    no overlap rows for it. Its groups ([48]) are not ELIC's defaults, which the example's config
    keeps: the same-backbone check compares N and M only."""
    from taco.bench.latency import BenchConfig, run_bench
    from taco.bench.report import format_table

    cfg = BenchConfig(taco_model="film-ms-tiny", elic_model="mean-scale-tiny", clip_b=False, runs=1,
                      warmup=0, crop=64, images=["skimage-chelsea.png"])
    result = run_bench(cfg)
    timed = result["systems"]["taco"]
    assert {"encode_cold", "encode_cold_sequential", "encode_cached", "g_a", "decode"} <= set(timed)
    assert not {"overlap_front", "overlap_text_wait"} & set(timed)
    assert "overlapped: stages 1-2" not in format_table(result)


def test_the_bench_compares_a_registered_backbones_n_and_m_only(film):
    from taco.bench.config import check_models
    from taco.models import register_architecture

    check_models("film-ms-tiny", "mean-scale-tiny")
    register_architecture("film-ms", film, textless=False, configs={"film-ms-wide": {
        "N": 32, "M": 64, "text_encoder": {"name": "clip-tiny"}}})
    with pytest.raises(TacoValueError) as refused:
        check_models("film-ms-wide", "mean-scale-tiny")
    message = str(refused.value)
    assert "(N=32, M=64)" in message and "(N=32, M=48)" in message and "groups" not in message


def test_a_forward_with_other_keys_is_one_line_naming_the_keys_expected():
    """A forward returning other keys than x_hat/likelihoods was a bare KeyError 'x_hat' in the
    loss; it is a TacoValueError naming what it returned and what is expected."""
    from taco.losses import RateDistortionLoss

    x = torch.rand(1, 3, 16, 16)
    wrong = {"reconstruction": x, "likelihood": {"y": torch.full((1, 4, 1, 1), 0.5)}}
    with pytest.raises(TacoValueError) as refused:
        RateDistortionLoss()(wrong, x)
    message = str(refused.value)
    assert "expected the model's forward to return {'x_hat'" in message and "'likelihoods'" in message
    assert "got ['likelihood', 'reconstruction']" in message and "Adding a backbone" in message
    assert len(message.splitlines()) == 1


def test_a_latent_of_other_channels_than_m_is_told_so(example):
    """A g_a giving y the right height and width but other channels than M was told its g_a
    "down-samples by other than latent_scale"; it is told the channel counts. A wrong height and
    width keeps the latent_scale advice."""
    from taco.codec import check_latent_shape

    model = example.MeanScaleHyperprior(N=16, M=24)
    with pytest.raises(TypeError) as wide:
        check_latent_shape(model, torch.zeros(1, 32, 4, 8), 64, 128, None)
    message = str(wide.value)
    assert "MeanScaleHyperprior's g_a gives y 32 channels, but its M" in message
    assert "is 24" in message and "latent_scale" not in message
    with pytest.raises(TypeError, match=r"down-samples by other than MeanScaleHyperprior.latent_scale"):
        check_latent_shape(model, torch.zeros(1, 24, 8, 16), 64, 128, None)
    check_latent_shape(model, torch.zeros(1, 24, 4, 8), 64, 128, None)


def test_a_textless_config_naming_a_text_encoder_is_refused_at_registration(example):
    """ModelConfig drops the text_encoder of a textless architecture: the config was accepted and
    the builder, which expected it, failed later on something else."""
    from taco.models import MODEL_CONFIGS, register_architecture
    from taco.models.config import ARCHITECTURES

    with pytest.raises(TacoValueError, match=r"config 'ms-text': a textless backbone \(textless=True\) "
                                             r"reads no text: drop \"text_encoder\" or register with "
                                             r"textless=False"):
        register_architecture("ms-text", example.MeanScaleHyperprior, configs={
            "ms-text": {"N": 16, "M": 24, "text_encoder": {"name": "minilm"}}})
    assert "ms-text" not in ARCHITECTURES and "ms-text" not in dict(MODEL_CONFIGS)
