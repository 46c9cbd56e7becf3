"""A text-guided backbone added from outside taco (docs/models.md, "Adding a backbone",
``textless=False``): a scale hyperprior at 8x down-sampling whose g_a is modulated by the
caption (FiLM), written into the test's folder as a plugin module. Its analysis is handed
TextTokens on every path (not the caption future TACO's g_a waits on), a class whose
forward/compress take no text is refused when registered, text options meant for TACO's adapter
are refused for it, the registry-wide tests hold for it (its halo, its text width) and a builder
that cannot bind the config's arguments names the one it refuses."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import torch

from taco.text.base import TextEncoder, TextTokens

ROOT = Path(__file__).resolve().parents[2]
NAME = "film_backbone"

PLUGIN = '''"""A text-guided backbone: a scale hyperprior (Balle et al. 2018) at 8x down-sampling whose
g_a is modulated (FiLM) by the mean of the caption's tokens. ``SEEN`` records the type of every
text its analysis is given; it keeps no ``text_dim``."""

import torch
from compressai.entropy_models import EntropyBottleneck, GaussianConditional
from compressai.models.base import CompressionModel
from compressai.models.utils import conv, deconv
from compressai.ops import quantize_ste
from torch import nn

from taco.bitstream.rans import StreamDecoder, StreamEncoder
from taco.models import ELIC, register_architecture
from taco.models.entropy import (compress_hyper_latent, decompress_hyper_latent,
                                 dequantize_symbols, quantize_symbols, scale_indexes)
from taco.models.gains import check_quality

SEEN = []


class ScaleCodec(nn.Module):
    one_stream = True

    def __init__(self, N, M):
        super().__init__()
        self.M = M
        self.h_a = nn.Sequential(conv(M, N, 3, 1), nn.ReLU(), conv(N, N, 5, 2), nn.ReLU(), conv(N, N, 5, 2))
        self.h_s = nn.Sequential(deconv(N, N, 5, 2), nn.ReLU(), deconv(N, N, 5, 2), nn.ReLU(), conv(N, M, 3, 1))
        self.entropy_bottleneck = EntropyBottleneck(N)
        self.gaussian_conditional = GaussianConditional(None)

    def gain_vectors(self, quality):
        check_quality(quality, None)

    def forward(self, y, quality=None):
        self.gain_vectors(quality)
        z = self.h_a(y)
        _, z_likelihoods = self.entropy_bottleneck(z)
        medians = self.entropy_bottleneck._get_medians()
        scales = self.h_s(quantize_ste(z - medians) + medians)
        _, y_likelihoods = self.gaussian_conditional(y, scales)
        return {"y_hat": quantize_ste(y), "likelihoods": {"y": y_likelihoods, "z": z_likelihoods}}

    def num_symbols(self, shape):
        hz, wz = shape["hyper"]
        z_channels = self.entropy_bottleneck._quantized_cdf.shape[0]
        return int(z_channels * hz * wz + sum(c * h * w for c, h, w in shape["y"]))

    @torch.no_grad()
    def compress(self, y, quality=None):
        self.gain_vectors(quality)
        stream = StreamEncoder()
        z_size, scales = compress_hyper_latent(self, y, stream)
        means = torch.zeros_like(y)
        symbols = quantize_symbols(y, means)
        stream.encode(self.gaussian_conditional, symbols, scale_indexes(self.gaussian_conditional, scales))
        y_hat = dequantize_symbols(symbols, means).to(torch.float32)
        return {"strings": [stream.flush()], "shape": {"y": [y_hat.shape[1:]], "hyper": z_size},
                "y_hat": y_hat}

    @torch.no_grad()
    def decompress(self, strings, shape):
        stream = StreamDecoder(strings[0], self.num_symbols(shape))
        scales = decompress_hyper_latent(self, stream, len(strings[0]), tuple(shape["hyper"]))
        symbols = stream.decode(self.gaussian_conditional, scale_indexes(self.gaussian_conditional, scales))
        assert not stream.symbols_left
        means = torch.zeros(symbols.shape, dtype=scales.dtype)
        return {"y_hat": dequantize_symbols(symbols, means).to(torch.float32)}


class FilmScale8(ELIC):
    uses_text = True
    analysis_stripe_scale = 8  # g_a runs whole (stripe_rows is ignored)
    analysis_halo = 0
    latent_scale = 8
    # three 5x5 stride-2 transposed convolutions: one latent reaches 2 + 4 + 8 = 14 px, under
    # 2 latent positions of 8 px
    synthesis_halo = 2

    def __init__(self, N=32, M=40, text_width=384):
        CompressionModel.__init__(self)
        self.N, self.M, self.groups, self.layout = N, M, [M], "reference"
        self.g_a = nn.Sequential(conv(3, N), nn.ReLU(), conv(N, N), nn.ReLU(), conv(N, M))
        self.g_s = nn.Sequential(deconv(M, N), nn.ReLU(), deconv(N, N), nn.ReLU(), deconv(N, 3))
        self.film = nn.Linear(text_width, 2 * N)
        self.latent_codec = ScaleCodec(N, M)

    def analysis(self, x, text=None, *, stripe_rows=None):
        SEEN.append(type(text).__name__)
        h = self.g_a[:2](x)
        if text is not None:
            keep = text.mask.unsqueeze(-1).to(h.dtype)
            pooled = (text.tokens.to(h.dtype) * keep).sum(1) / keep.sum(1).clamp(min=1)
            gain, bias = self.film(pooled).chunk(2, -1)
            h = h * (1 + gain[..., None, None]) + bias[..., None, None]
        return self.g_a[2:](h)

    def forward(self, x, text=None, quality=None):
        out = self.latent_codec(self.analysis(x, text), quality)
        return {"x_hat": self.g_s(out["y_hat"]), "likelihoods": out["likelihoods"]}

    @torch.no_grad()
    def compress(self, x, text=None, quality=None):
        out = self.latent_codec.compress(self.analysis(x, text), quality)
        return {"strings": out["strings"], "shape": out["shape"]}


register_architecture("film8", FilmScale8, textless=False, configs={
    "film8-tiny": {"N": 24, "M": 40, "text_encoder": {"name": "minilm"}}})
'''


class SeededText(TextEncoder):
    """Tokens drawn from the caption's length, MiniLM's width (384): no encoder weights needed."""

    name, max_tokens = "seeded", 5

    def _encode(self, captions: list[str]) -> TextTokens:
        g = torch.Generator().manual_seed(len(captions[0]))
        tokens = torch.randn(len(captions), self.max_tokens, 384, generator=g)
        return TextTokens(tokens, torch.ones(len(captions), self.max_tokens, dtype=torch.bool))


@pytest.fixture()
def plugin_dir(tmp_path) -> Path:
    (tmp_path / f"{NAME}.py").write_text(PLUGIN)
    return tmp_path


@pytest.fixture()
def film(plugin_dir, registry_restored) -> Iterator[ModuleType]:
    """The plugin imported in this process (registering ``film8``), gone again afterwards."""
    sys.path.insert(0, str(plugin_dir))
    try:
        yield importlib.import_module(NAME)
    finally:
        sys.path.remove(str(plugin_dir))
        sys.modules.pop(NAME, None)


def test_a_text_guided_backbone_is_given_text_tokens_on_the_cpu(film, sample_image):
    """taco.compress on the CPU encodes the caption on a worker thread while TACO's g_a runs
    (taco.codec.analysis_with_text_overlap); only TACO's analysis waits on that future. Another
    text-guided backbone's analysis was handed the CaptionFuture itself; it gets TextTokens
    (asked to overlap, too), and the caption moves y."""
    from taco.bitstream import unpack
    from taco.codec import analysis_with_text_overlap, compress_image
    from taco.models import create_model

    model = create_model("film8-tiny", seed=0)
    data = compress_image(sample_image.crop((0, 0, 96, 80)), "a cat", model, text_encoder=SeededText()).data
    assert unpack(data).header.model_id == "film8-tiny"
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        cat, rocket = (analysis_with_text_overlap(model, x, [c], SeededText(), overlap=True)
                       for c in ("a cat", "a rocket launch"))
    assert film.SEEN == ["TextTokens"] * 3
    assert not torch.equal(cat, rocket)


def test_taco_still_waits_for_its_caption_inside_g_a(monkeypatch):
    """The caption future stays TACO's own: its g_a runs its first stages meanwhile. (Spied on
    where the Future is made: a spy on ``model.analysis`` would be an analysis other than TACO's,
    which is handed the tokens, taco.codec.takes_pending_caption.)"""
    from concurrent.futures import Future

    import taco.codec
    from taco.codec import analysis_with_text_overlap
    from taco.models import create_model

    model = create_model("taco-tiny", seed=0)
    seen = []
    encode = taco.codec.encode_captions_async
    monkeypatch.setattr(taco.codec, "encode_captions_async",
                        lambda encoder, captions: seen.append(encode(encoder, captions)) or seen[-1])

    class Tiny(SeededText):
        def _encode(self, captions: list[str]) -> TextTokens:
            return TextTokens(torch.randn(len(captions), 5, model.text_dim), torch.ones(len(captions), 5, dtype=torch.bool))

    with torch.no_grad():
        analysis_with_text_overlap(model, torch.rand(1, 3, 64, 64), ["a cat"], Tiny(), overlap=True)
    assert len(seen) == 1 and isinstance(seen[0], Future)


def test_a_text_guided_class_whose_forward_takes_no_text_is_refused(film):
    """A class registered with textless=False that inherits ELIC's forward and compress (which
    take no text) was accepted, and training failed deep in the trainer (``forward() got
    multiple values for argument 'quality'``); it is refused at registration, naming what is
    missing, and no table changes. A builder function's model is checked when it is built."""
    from taco.models import MODEL_CONFIGS, ModelConfig, register_architecture
    from taco.models.architecture import BUILDERS, build_model
    from taco.models.config import ARCHITECTURES

    class Inherits(film.FilmScale8):
        forward = film.ELIC.forward
        compress = film.ELIC.compress

    with pytest.raises(ValueError) as refused:
        register_architecture("film-bad", Inherits, textless=False,
                              configs={"film-bad-tiny": {"N": 8, "M": 8, "text_encoder": {"name": "minilm"}}})
    message = str(refused.value)
    assert ("Inherits.forward (ELIC.forward: multiple values for argument 'quality') and "
            "Inherits.compress (ELIC.compress: multiple values for argument 'quality') cannot take "
            "the text as taco passes it") in message
    assert "forward(self, x, text, quality=None)" in message, message
    assert "film-bad" not in ARCHITECTURES and "film-bad" not in BUILDERS
    assert "film-bad-tiny" not in dict(MODEL_CONFIGS)

    register_architecture("film-built", lambda config: Inherits(N=config.N, M=config.M), textless=False)
    with pytest.raises(TypeError, match=r"Inherits.forward \(ELIC.forward: .*\) and .* cannot take the text"):
        build_model(ModelConfig(architecture="film-built", N=8, M=8, text_encoder={"name": "minilm"}))
    assert build_model(ModelConfig(architecture="film8", N=8, M=8, text_encoder={"name": "minilm"})).uses_text


@pytest.mark.parametrize("override", ["text_injection=tgic", "use_mask=true", "heads=2",
                                      "gamma_init=0.5", "injector_at=h4", "residual=identity",
                                      "learn_gamma=false"])
def test_text_options_of_taco_are_refused_for_a_text_guided_backbone(film, override):
    """TACO's adapter options (``--text-injection``, ``model_overrides.use_mask``, ...) were
    silently ignored for a text-guided backbone (refused only for one without text); the text
    encoder remains its own to choose."""
    from taco.train.config import ConfigError, load_config

    key = override.split("=")[0]
    with pytest.raises(ConfigError, match=rf"model_overrides.{key}.*: model 'film8-tiny' is no TACO "
                                          r"model \(architecture 'film8'\); text options apply to TACO"):
        load_config(overrides=["model=film8-tiny", f"model_overrides.{override}"])
    chosen = load_config(overrides=["model=film8-tiny", "model_overrides.text_encoder.name=clip-tiny"])
    assert chosen.model_overrides == {"text_encoder": {"name": "clip-tiny"}}


def test_a_builder_that_cannot_bind_its_config_names_the_argument(film):
    """Only a class that cannot take the config's arguments is "cannot be built with ...": a
    variable-rate config for a single-rate class names ``qualities`` (it was reported as
    ``options {}``), and a TypeError raised inside ``__init__`` (a bug) is left as it is."""
    from taco.models import ModelConfig, create_model, register_architecture

    class Buggy(film.FilmScale8):
        def __init__(self, N=32, M=40, text_width=384):
            super().__init__(N, M, text_width)
            film.ScaleCodec(N)  # a bug: a missing argument

    register_architecture("film-buggy", Buggy, textless=False,
                          configs={"film-buggy-tiny": {"N": 8, "M": 8, "text_encoder": {"name": "minilm"}}})
    with pytest.raises(TypeError, match=r"missing 1 required positional argument: 'M'") as bug:
        create_model("film-buggy-tiny")
    assert "cannot be built" not in str(bug.value)

    with pytest.raises(ValueError, match=r"architecture 'film8' cannot be built with qualities=\[0.001, 0.002\]: "
                                         r"FilmScale8\(\) got an unexpected keyword argument 'qualities'"):
        create_model("film8-tiny", qualities=[0.001, 0.002])
    with pytest.raises(ValueError, match=r"cannot be built with options \{'depth': 2\}: "
                                         r"FilmScale8\(\) got an unexpected keyword argument 'depth'"):
        create_model("film8-tiny", options={"depth": 2})
    assert create_model("film8-tiny", options={"text_width": 384}).config == ModelConfig(
        architecture="film8", N=24, M=40, text_encoder={"name": "minilm"}, options={"text_width": 384})


def test_a_scale_8_backbone_tiles_exactly_when_its_halo_covers_its_reach(film, monkeypatch):
    """The condition tests/test_decoding.py holds a backbone to, reach <= latent_scale x
    synthesis_halo, is the one tiling needs: the plugin's g_s reaches 14 px; with a halo of 2
    latents (16 px) tiled synthesis is the whole image's in float64, with 1 (8 px) it has seams."""
    from taco import codec
    from taco.models import create_model

    model = create_model("film8-tiny", seed=0).double().eval()
    y = 3 * torch.randn(1, 40, 48, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        whole = model.g_s(y).clamp(0, 1)
    monkeypatch.setattr(codec, "SYNTHESIS_TILE_BUDGET", 24 * 128 * 128)
    for halo, exact in ((2, True), (1, False)):
        monkeypatch.setattr(film.FilmScale8, "synthesis_halo", halo)
        assert len(codec.synthesis_tiles(model, 48, 64)) > 1
        tiled = torch.zeros(1, 3, 384, 512, dtype=torch.float64)
        codec.synthesize(model, y, 384, 512, tiled)
        assert ((tiled - whole).abs().max() < 1e-12) == exact, halo  # measured: 2e-16, 0.27


@pytest.mark.slow
def test_the_tests_over_every_registered_name_pass_for_a_text_guided_backbone(plugin_dir):
    """The registry-wide tests run with the plugin registered first (pytest -p, as docs/models.md
    tells a backbone's author): they read the token width from the config's text encoder (the
    plugin keeps no ``text_dim``), code through a file on the CPU (the caption's future) and hold
    the synthesis halo to the model's own reach (14 px within 2 latents of 8 px: ELIC's 12 px
    margin is for taco's own architectures)."""
    tests = ["tests/models/test_registry.py", "tests/models/test_architecture.py",
             "tests/test_decoding.py", "tests/models/test_analysis_stripes.py",
             "tests/models/test_every_architecture_codes.py"]
    path = os.pathsep.join(p for p in (str(plugin_dir), os.environ.get("PYTHONPATH", "")) if p)
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", NAME, "-p", "no:cacheprovider",
                          "-k", "film8", *tests], env={**os.environ, "PYTHONPATH": path}, cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-4000:]
    passed = int(re.search(r"(\d+) passed", out.stdout).group(1))  # type: ignore[union-attr]
    assert passed >= 6, out.stdout[-2000:]
