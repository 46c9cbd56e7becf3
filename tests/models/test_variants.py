"""Text-injection ablation variants (issue 8): TGIC module, injector placement, mask, fixed gamma.

Each variant: builds from a config, forward shapes, exact entropy round trip, parameter count,
and the behaviour that defines it.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import torch

import taco
from taco.models import (
    ELIC,
    TACO,
    ModelConfig,
    TextAdapter,
    TextInjector,
    create_model,
    load,
    save_checkpoint,
)
from taco.models.config import INJECTOR_POSITIONS, RESIDUALS, TEXT_INJECTIONS
from taco.models.taco import PartialTextAdapter
from taco.models.tgic import TGICAttention, TGICInjection
from taco.text.base import TextTokens

TINY: dict[str, Any] = dict(N=16, M=32, groups=[8, 8, 16], ctx_hidden=(16, 16), text_dim=8, heads=2)

#: name -> TACO options; gamma_init > 0 so that the adapter's text actually reaches the latent.
VARIANTS: dict[str, dict[str, Any]] = {
    "adapter": dict(gamma_init=0.3),
    "adapter-h4": dict(gamma_init=0.3, injector_at="h4"),
    "adapter-h8": dict(gamma_init=0.3, injector_at="h8"),
    "adapter-mask": dict(gamma_init=0.3, use_mask=True),
    "adapter-fixed-gamma": dict(gamma_init=0.3, learn_gamma=False),
    "tgic": dict(text_injection="tgic"),
    "tgic-h4": dict(text_injection="tgic", injector_at="h4"),
    "tgic-h8": dict(text_injection="tgic", injector_at="h8"),
    "tgic-mask": dict(text_injection="tgic", use_mask=True),
}

#: Parameters of g_a.adapter for each variant at the tiny test size (N=16, d=8, 2 heads).
TINY_TEXT_PARAMS = {
    "adapter": 3_080, "adapter-h4": 1_312, "adapter-h8": 1_768, "adapter-mask": 3_080,
    "adapter-fixed-gamma": 3_080, "tgic": 5_952, "tgic-h4": 2_976, "tgic-h8": 2_976,
    "tgic-mask": 5_952,
}

#: Which adapter slots (ca1: H/4 injector, ca2: extractor, ca3: H/8 injector) each variant fills.
SLOTS = {
    ("adapter", "both"): {"ca1", "ca2", "ca3"},
    ("adapter", "h4"): {"ca1"},
    ("adapter", "h8"): {"ca2", "ca3"},
    ("tgic", "both"): {"ca1", "ca3"},
    ("tgic", "h4"): {"ca1"},
    ("tgic", "h8"): {"ca3"},
}


def tokens(b: int = 1, m: int = 6, d: int = 8, pad: int = 0, seed: int = 0) -> TextTokens:
    g = torch.Generator().manual_seed(seed)
    mask = torch.ones(b, m, dtype=torch.bool)
    if pad:
        mask[:, m - pad :] = False
    return TextTokens(torch.randn(b, m, d, generator=g), mask)


def build(name: str, seed: int = 0) -> TACO:
    torch.manual_seed(seed)
    return TACO(**TINY, **VARIANTS[name]).eval()


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def slots(model: TACO) -> set[str]:
    return {name.split(".")[2] for name, _ in model.named_parameters() if ".adapter." in name}


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_shapes_round_trip_and_size(name):
    model = build(name)
    model.update(force=True)
    x, t = torch.rand(1, 3, 64, 128), tokens()
    with torch.no_grad():
        out = model(x, t)
        enc = model.compress(x, t)
        dec = model.decompress(enc["strings"], model.latent_shapes(64, 128))
    assert out["x_hat"].shape == x.shape
    assert out["y"].shape == (1, 32, 4, 8)
    assert out["likelihoods"]["z"].shape == (1, 16, 1, 2)
    assert len(enc["strings"]) == 1  # the reference layout: one rANS stream per image
    assert torch.equal(dec["x_hat"], out["x_hat"].clamp(0, 1))
    assert n_params(model.g_a.adapter) == TINY_TEXT_PARAMS[name]
    elic = ELIC(**{k: TINY[k] for k in ("N", "M", "groups", "ctx_hidden")})
    assert n_params(model) == n_params(elic) + TINY_TEXT_PARAMS[name]


@pytest.mark.parametrize("injection,at", list(SLOTS))
def test_placement_skips_the_right_modules(injection, at):
    model = TACO(**TINY, text_injection=injection, injector_at=at)
    a = model.g_a.adapter
    assert slots(model) == SLOTS[injection, at]
    for slot in ("ca1", "ca2", "ca3"):
        assert (getattr(a, slot) is None) == (slot not in SLOTS[injection, at])
    absent = tuple(f"g_a.adapter.{s}." for s in {"ca1", "ca2", "ca3"} - SLOTS[injection, at])
    assert absent == () or not any(k.startswith(absent) for k in model.state_dict())


def test_paper_and_small_parameter_counts():
    """Text-module sizes quoted in docs/results.md (paper N=192, d=512; small N=48, d=384)."""
    def count(n, d, injection, at):
        if injection == "tgic":
            return n_params(TGICInjection(n, d, at))
        if at == "both":
            return n_params(TextAdapter(n, d))
        return n_params(PartialTextAdapter(n, d, at))

    paper = {(i, a): count(192, 512, i, a) for i, a in SLOTS}
    assert paper == {
        ("adapter", "both"): 1_646_848, ("adapter", "h4"): 247_680, ("adapter", "h8"): 1_399_168,
        ("tgic", "both"): 1_008_384, ("tgic", "h4"): 504_192, ("tgic", "h8"): 504_192,
    }
    small = {(i, a): count(48, 384, i, a) for i, a in SLOTS}
    assert small == {
        ("adapter", "both"): 667_968, ("adapter", "h4"): 28_128, ("adapter", "h8"): 639_840,
        ("tgic", "both"): 87_744, ("tgic", "h4"): 43_872, ("tgic", "h8"): 43_872,
    }


@pytest.mark.parametrize("at", ["both", "h8"])
def test_fixed_gamma_gets_no_gradient(at):
    torch.manual_seed(0)
    learned = TACO(**TINY, injector_at=at, gamma_init=0.3)
    fixed = TACO(**TINY, injector_at=at, gamma_init=0.3, learn_gamma=False)
    for model, trains in ((learned, True), (fixed, False)):
        out = model(torch.rand(1, 3, 64, 64), tokens())
        out["x_hat"].square().mean().backward()
        gammas = [p for n, p in model.named_parameters() if n.endswith(".gamma")]
        assert gammas and all(p.requires_grad == trains for p in gammas)
        assert all((p.grad is not None) == trains for p in gammas)
        assert all(torch.all(p.detach() == torch.tensor(0.3)) for p in gammas)
        assert model.g_a.adapter.ca3.text_proj.weight.grad is not None  # the rest still trains


@pytest.mark.parametrize("injection", ["adapter", "tgic"])
def test_mask_matters_only_when_the_caption_is_padded(injection):
    kw: dict[str, Any] = (
        dict(text_injection=injection) if injection == "tgic" else dict(gamma_init=0.5)
    )
    torch.manual_seed(0)
    on = TACO(**TINY, **kw, use_mask=True).eval()
    off = TACO(**TINY, **kw, use_mask=False).eval()
    off.load_state_dict(on.state_dict())  # use_mask changes no parameter
    x = torch.rand(1, 3, 64, 64)
    full, padded = tokens(), tokens(pad=3)
    other_pad = TextTokens(padded.tokens.clone(), padded.mask)
    other_pad.tokens[:, 3:] = torch.randn(1, 3, 8)
    with torch.no_grad():
        # no padding: the mask has nothing to hide
        assert torch.allclose(on.analysis(x, full), off.analysis(x, full), atol=1e-5)
        # padding: the masked model ignores the padded tokens, the unmasked one does not
        assert not torch.allclose(on.analysis(x, padded), off.analysis(x, padded), atol=1e-4)
        assert torch.allclose(on.analysis(x, padded), on.analysis(x, other_pad), atol=1e-5)
        assert not torch.allclose(off.analysis(x, padded), off.analysis(x, other_pad), atol=1e-4)


def test_tgic_output_depends_on_the_text():
    model = build("tgic")
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        y1, y2 = model.analysis(x, tokens(seed=1)), model.analysis(x, tokens(seed=2))
        assert not torch.allclose(y1, y2, atol=1e-4)
        assert torch.equal(y1, model.analysis(x, tokens(seed=1)))
    module = TGICAttention(16, 8)
    v = torch.randn(2, 16, 3, 5)
    a, b = module(v, tokens(2, seed=1).tokens), module(v, tokens(2, seed=2).tokens)
    assert a.shape == v.shape and not torch.allclose(a, b)
    # a caption with no real token keeps all keys instead of producing NaNs
    masked = TGICAttention(16, 8, use_mask=True)
    assert torch.isfinite(masked(v, tokens(2).tokens, torch.zeros(2, 6, dtype=torch.bool))).all()


def test_tgic_refuses_adapter_only_options():
    for bad in (dict(gamma_init=0.5), dict(learn_gamma=False), dict(residual="identity")):
        with pytest.raises(ValueError, match="TGIC text injection has no option"):
            TACO(**TINY, text_injection="tgic", **bad)
    with pytest.raises(ValueError, match="text_injection"):
        ModelConfig(text_injection="film")
    with pytest.raises(ValueError, match="injector_at"):
        ModelConfig(injector_at="h2")
    with pytest.raises(ValueError, match="at must be"):
        TGICInjection(16, 8, at="h2")


def test_every_option_value_comes_from_one_tuple_and_others_are_refused():
    """TEXT_INJECTIONS, INJECTOR_POSITIONS, RESIDUALS (taco.models.config) are what the config
    and the modules accept; the text injector used to take any residual but "paper" as the
    identity one."""
    for injection, at, residual in itertools.product(TEXT_INJECTIONS, INJECTOR_POSITIONS, RESIDUALS):
        if injection == "tgic" and residual != "paper":
            continue  # TGIC has no residual option
        kw = dict(text_injection=injection, injector_at=at, residual=residual)
        ModelConfig(**kw)
        TACO(**TINY, **kw)
    for name, bad, listed in (("residual", "ln", "'paper' or 'identity'"),
                              ("text_injection", "film", "'adapter' or 'tgic'"),
                              ("injector_at", "h2", "'both', 'h4' or 'h8'"),
                              ("layout", "x", "'reference' or 'compressai'")):
        with pytest.raises(ValueError, match=f"^{name} must be {listed}, got '{bad}'$"):
            ModelConfig(**{name: bad})
        if name != "layout":
            with pytest.raises(ValueError, match=f"^{name} must be {listed}, got '{bad}'$"):
                TACO(**TINY, **{name: bad})
    with pytest.raises(ValueError, match="^residual must be 'paper' or 'identity', got 'Identity'$"):
        TextInjector(16, 8, residual="Identity")
    with pytest.raises(ValueError, match="^at must be 'h4' or 'h8', got 'both'$"):
        PartialTextAdapter(16, 8, at="both")


def test_new_config_fields_keep_old_digests_and_checkpoints():
    """Defaults of the added fields are not hashed: existing fingerprints and .taco files hold."""
    import hashlib
    import json

    cfg = ModelConfig()
    old = {k: v for k, v in cfg.to_dict().items()
           if k not in ("text_injection", "injector_at", "qualities", "options")}
    blob = json.dumps(old, sort_keys=True, separators=(",", ":")).encode()
    assert cfg.digest() == hashlib.sha256(blob).hexdigest()
    assert ModelConfig.from_dict(old) == cfg  # a checkpoint written before the fields existed
    assert ModelConfig(injector_at="h4").digest() != cfg.digest()
    assert ModelConfig(text_injection="tgic").digest() != cfg.digest()


def test_registered_tgic_model_codes_real_images_and_checkpoints(tmp_path, sample_image):
    model = create_model("taco-tgic-tiny")
    assert model.config.text_injection == "tgic" and slots(model) == {"ca1", "ca3"}
    crop = sample_image.crop((0, 0, 80, 48))
    a = taco.compress(crop, "a cat", model)
    assert a != taco.compress(crop, "a rocket on a launch pad at dusk", model)
    assert taco.decompress(a, model).size == (80, 48)
    variant = create_model("taco-tiny", injector_at="h8", use_mask=True, learn_gamma=False)
    loaded = load(save_checkpoint(variant, tmp_path / "v.safetensors"))
    assert loaded.config == variant.config and slots(loaded) == {"ca2", "ca3"}
    assert not loaded.g_a.adapter.ca3.gamma.requires_grad
    assert taco.compress(crop, "a cat", loaded) == taco.compress(crop, "a cat", variant)
