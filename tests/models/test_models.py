"""Shapes of every module, the adapter's identity at gamma=0, exact entropy round trip."""

from __future__ import annotations

import pytest
import torch

from taco.models import ELIC, TACO, TextAdapter, TextExtractor, TextInjector
from taco.text.base import TextTokens

TINY = dict(N=16, M=32, groups=[8, 8, 16], ctx_hidden=(16, 16))


def tokens(b: int = 2, m: int = 5, d: int = 8, pad: int = 0) -> TextTokens:
    mask = torch.ones(b, m, dtype=torch.bool)
    if pad:
        mask[:, m - pad :] = False
    return TextTokens(torch.randn(b, m, d), mask)


def test_paper_sizes_match_spec():
    """The authors' TACO at N=192, M=320 has 38,579,275 parameters, its adapter 1,646,848."""
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    taco, elic = TACO(), ELIC()
    assert n(taco) == 38_579_275
    assert n(taco.g_a.adapter) == 1_646_848
    assert n(elic) == n(taco) - n(taco.g_a.adapter)
    assert n(ELIC(layout="compressai")) == 32_074_200  # CompressAI Elic2022Official layout


def test_injector_and_extractor_shapes():
    inj = TextInjector(16, 8, heads=2)
    ext = TextExtractor(16, 8, heads=2)
    v, t = torch.randn(2, 16, 4, 6), tokens()
    assert inj(v, t.tokens, t.mask).shape == (2, 16, 4, 6)
    assert ext(v, t.tokens).shape == (2, 5, 8)
    assert torch.all(inj.gamma == 0)


def test_gamma_zero_makes_text_irrelevant():
    inj = TextInjector(16, 8, heads=2)
    v = torch.randn(1, 16, 3, 3)
    a = inj(v, torch.randn(1, 5, 8))
    b = inj(v, torch.randn(1, 5, 8))
    assert torch.equal(a, b)


def test_paper_residual_normalises_identity_residual_does_not():
    v = torch.randn(1, 16, 3, 3) * 5 + 2
    e = torch.randn(1, 5, 8)
    paper = TextInjector(16, 8, heads=2, residual="paper")
    ident = TextInjector(16, 8, heads=2, residual="identity")
    assert torch.equal(ident(v, e), v)
    out = paper(v, e)
    assert not torch.allclose(out, v)
    assert out.mean(1).abs().max() < 1e-5  # LayerNorm over channels at every position


def test_key_padding_mask_changes_attention_only_when_enabled():
    torch.manual_seed(1)
    inj = TextInjector(16, 8, heads=2, use_mask=True, gamma_init=1.0)
    v, e = torch.randn(1, 16, 2, 2), torch.randn(1, 6, 8)
    mask = torch.tensor([[True, True, True, False, False, False]])
    masked = inj(v, e, mask)
    # with the mask, the padded tokens' values do not matter
    e2 = e.clone()
    e2[:, 3:] = torch.randn(1, 3, 8)
    assert torch.allclose(masked, inj(v, e2, mask), atol=1e-6)
    inj.use_mask = False
    assert not torch.allclose(inj(v, e, mask), inj(v, e2, mask))
    # a caption with no real token at all must not produce NaNs
    inj.use_mask = True
    assert torch.isfinite(inj(v, e, torch.zeros(1, 6, dtype=torch.bool))).all()


def test_adapter_with_zero_gamma_reproduces_elic_latent_exactly():
    torch.manual_seed(0)
    taco = TACO(**TINY, text_dim=8, heads=2, residual="identity").eval()
    elic = ELIC(**TINY).eval()
    state = {
        k.replace("g_a.base.", "g_a."): v
        for k, v in taco.state_dict().items()
        if ".adapter." not in k
    }
    elic.load_state_dict(state)
    x = torch.rand(2, 3, 64, 128)
    with torch.no_grad():
        assert torch.equal(taco.analysis(x, tokens()), elic.analysis(x))
        assert torch.equal(taco(x, tokens())["x_hat"], elic(x)["x_hat"])


def test_text_changes_latent_once_gamma_is_nonzero():
    taco = TACO(**TINY, text_dim=8, heads=2, gamma_init=0.5).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        y1 = taco.analysis(x, tokens(1))
        y2 = taco.analysis(x, tokens(1))
    assert not torch.allclose(y1, y2)


def test_forward_shapes_and_likelihoods():
    taco = TACO(**TINY, text_dim=8, heads=2)
    x = torch.rand(2, 3, 128, 64)
    out = taco(x, tokens())
    assert out["x_hat"].shape == x.shape
    assert out["likelihoods"]["y"].shape == (2, 32, 8, 4)
    assert out["likelihoods"]["z"].shape == (2, 16, 2, 1)
    assert out["y"].shape == (2, 32, 8, 4)


def test_wrong_text_width_is_a_clear_error():
    taco = TACO(**TINY, text_dim=8, heads=2)
    with pytest.raises(ValueError, match="text encoder does not match"):
        taco.analysis(torch.rand(1, 3, 64, 64), tokens(1, d=12))
    with pytest.raises(TypeError, match="caption"):
        taco.analysis(torch.rand(1, 3, 64, 64), None)


@pytest.mark.parametrize("arch", ["taco", "elic"])
def test_exact_entropy_round_trip(arch):
    """decompress(compress(x)) equals the eval-mode forward reconstruction, bit for bit."""
    torch.manual_seed(0)
    model = (
        TACO(**TINY, text_dim=8, heads=2, gamma_init=0.3) if arch == "taco" else ELIC(**TINY)
    ).eval()
    model.update(force=True)
    x = torch.rand(1, 3, 64, 128)
    t = tokens(1)
    with torch.no_grad():
        enc = model.compress(x, t) if arch == "taco" else model.compress(x)
        dec = model.decompress(enc["strings"], model.latent_shapes(64, 128))
        ref = (model(x, t) if arch == "taco" else model(x))["x_hat"].clamp(0, 1)
    assert len(enc["strings"]) == 1  # the reference layout: one rANS stream per image
    assert torch.equal(dec["x_hat"], ref)


def test_decoder_signature_takes_no_text():
    import inspect

    params = inspect.signature(TACO.decompress).parameters
    assert list(params) == ["self", "strings", "shape"]


def test_adapter_parameter_names_are_stable():
    names = {n.split(".")[0] for n, _ in TextAdapter(16, 8, heads=2).named_parameters()}
    assert names == {"ca1", "ca2", "ca3"}
