"""g_a in horizontal stripes (bounded encoder memory): the halo covers what one pixel reaches, the
stitched H/8 map and y equal the whole image's, CA2 read in chunks equals CA2 read whole."""

from __future__ import annotations

import pytest
import torch
from compressai.models.utils import conv

from taco.models import ELIC, MODEL_CONFIGS, TACO, create_model
from taco.models.adapter import TextExtractor
from taco.models.elic import ANALYSIS_HALO, AnalysisTransform, in_stripes
from taco.text import text_encoder_dim
from taco.text.base import TextTokens

#: Every registered architecture, the paper-size ones ``slow``.
REGISTERED = [pytest.param(a, marks=[pytest.mark.slow] if MODEL_CONFIGS[a].N > 48 else [])
              for a in sorted(MODEL_CONFIGS)]


def _tokens(model, dtype=torch.float32) -> TextTokens:
    """Tokens of the width of the model's text encoder (its config's: a backbone need keep no
    ``text_dim``; a TACO built without a config, its adapter's)."""
    config = getattr(model, "config", None)
    width = model.text_dim if config is None else text_encoder_dim(**config.text_encoder)
    g = torch.Generator().manual_seed(1)
    mask = torch.tensor([[True] * 5 + [False] * 2])
    return TextTokens(torch.randn(1, 7, width, generator=g).to(dtype), mask)


def _elic_stages(model) -> bool:
    """Whether g_a is ELIC's (:class:`AnalysisTransform`, in TACO under its text adapter): the
    stages :func:`_to_h8` runs. Another backbone is held to its halo by the float64 test alone."""
    return isinstance(getattr(model.g_a, "base", model.g_a), AnalysisTransform)


def _to_h8(model, text: TextTokens | None):
    """Stages 1-4 of g_a, with CA1 for a text model: the part that runs in stripes."""
    if not model.uses_text:
        return model.g_a.to_h8
    g, a = model.g_a.base, model.g_a.adapter

    def to_h8(x):
        v = g.stage2(g.stage1(x))
        if a.ca1 is not None:
            v = a.ca1(v, text.tokens, text.mask)
        return g.stage4(g.stage3(v))

    return to_h8


@pytest.mark.parametrize("arch", REGISTERED)
def test_the_analysis_halo_covers_what_one_pixel_reaches(arch):
    """A change to one input pixel moves the H/8 map of stages 1-4 (with CA1) at most 68 px above
    and 61 px below the rows it sits in (72 and 65 with TGIC's 3x3 fusion at H/4), measured in
    float64 over the 8 phases of the stride, for every registered architecture with ELIC's g_a:
    the model's analysis_halo, which taco.codec sizes stripes with and g_a stripes with (ELIC's
    ANALYSIS_HALO = 9 rows of H/8, 72 px), covers it."""
    model = create_model(arch, seed=0).double().eval()
    if not _elic_stages(model):
        pytest.skip("not ELIC's g_a: test_stripes_are_exact_in_float64 checks its halo")
    to_h8 = _to_h8(model, _tokens(model, torch.float64) if model.uses_text else None)
    x0 = torch.rand(1, 3, 256, 48, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    above = below = 0
    with torch.no_grad():
        base = to_h8(x0)
        for p in range(128, 136):
            x = x0.clone()
            x[..., p, 24] += 1
            rows = ((to_h8(x) - base).abs().sum((0, 1, 3)) > 0).nonzero().flatten()
            above = max(above, 8 * int(rows.max()) - p)  # input rows a row reads above its own
            below = max(below, p - (8 * int(rows.min()) + 7))  # ... and below
    assert model.analysis_stripe_scale == 8
    assert below <= above <= model.analysis_stripe_scale * model.analysis_halo
    if type(model) in (ELIC, TACO):
        assert 60 < below  # ELIC's reach, which the halo of 9 rows was measured from


@pytest.mark.parametrize("arch", REGISTERED)
def test_stripes_are_exact_in_float64(arch):
    """In float64 y is the whole image's to ~1e-15 for stripes of 1 row up to more than the map
    (and so is the stitched H/8 map of ELIC's stages): no row is missed, doubled or read with
    too little context, for every registered architecture (the paper-size ones ``slow``)."""
    model = create_model(arch, seed=0).double().eval()
    text = _tokens(model, torch.float64) if model.uses_text else None
    # 64 px wide: stripes are rows (a halo 3 rows short shows as ~1e-9 at 64 px as at 128)
    x = torch.rand(1, 3, 320, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    h = x.shape[-2] // model.analysis_stripe_scale
    with torch.no_grad():
        whole = model.analysis(x, text)
        for rows in (1, 7, 13, h - 1, h, h + 24):
            assert (model.analysis(x, text, stripe_rows=rows) - whole).abs().max() < 1e-12
        if _elic_stages(model):
            whole_h8 = _to_h8(model, text)(x)
            for rows in (1, 13, h):
                assert (in_stripes(_to_h8(model, text), x, rows) - whole_h8).abs().max() < 1e-12


def _widen(g_a: AnalysisTransform) -> None:
    """Three more 5x5 convolutions at H/8: stages 1-4 reach 3 x 2 rows of that map further."""
    n = g_a.stage4[0].out_channels
    g_a.stage4.extend([conv(n, n, kernel_size=5, stride=1) for _ in range(3)])


class WideReachELIC(ELIC):
    """A backbone whose g_a reaches further than ELIC's, declaring the halo that covers it."""

    analysis_halo = ANALYSIS_HALO + 6

    def __init__(self) -> None:
        super().__init__(N=16, M=32, groups=(16, 16), ctx_hidden=(16, 16))
        _widen(self.g_a)


class WideReachTACO(TACO):
    analysis_halo = ANALYSIS_HALO + 6

    def __init__(self) -> None:
        super().__init__(N=16, M=32, groups=(16, 16), ctx_hidden=(16, 16), text_dim=32)
        _widen(self.g_a.base)


@pytest.mark.parametrize("cls", [WideReachELIC, WideReachTACO])
def test_g_a_stripes_with_the_models_own_halo(cls):
    """g_a's stripes read the ``analysis_halo`` the model declares (the one taco.codec sizes them
    by), not ELIC's: with it a wider backbone's striped y is the whole image's in float64, with
    ELIC's 9 rows it has seams."""
    torch.manual_seed(0)
    model = cls().double().eval()
    text = _tokens(model, torch.float64) if model.uses_text else None
    x = torch.rand(1, 3, 320, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        whole = model.analysis(x, text)
        for rows in (1, 7, 13):
            assert (model.analysis(x, text, stripe_rows=rows) - whole).abs().max() < 1e-12
        inputs = (text.tokens, text.mask) if model.uses_text else ()
        narrow = model.g_a(x, *inputs, 7, halo=ANALYSIS_HALO)
    assert (narrow - whole).abs().max() > 1e-9  # the extra reach is real: ELIC's halo is short


@pytest.mark.parametrize("arch", ["elic-tiny", "taco-tiny", "taco-minilm-small", "elic-small"])
def test_striped_analysis_matches_the_whole_image(arch):
    """As the encoder runs it (float32, a caption still being encoded for a text model): y within
    float rounding of the whole image's, for a height that is no multiple of the stripe."""
    from concurrent.futures import Future

    model = create_model(arch, seed=0).eval()
    x = torch.rand(1, 3, 448, 192, generator=torch.Generator().manual_seed(0))  # 56 rows at H/8
    text = _tokens(model) if model.uses_text else None
    with torch.no_grad():
        whole = model.analysis(x, text)
        pending: Future[TextTokens] = Future()
        pending.set_result(text)  # type: ignore[arg-type]
        striped = model.analysis(x, pending if model.uses_text else None, stripe_rows=9)
    assert striped.shape == whole.shape
    assert (striped - whole).abs().max() <= 1e-4 * whole.abs().max()


def test_ca2_in_chunks_equals_ca2_whole():
    torch.manual_seed(0)
    ca2 = TextExtractor(48, 64, heads=8).eval()
    image, text = torch.randn(2, 48, 29, 11), torch.randn(2, 7, 64)
    with torch.no_grad():
        whole = ca2(image, text)
        assert torch.equal(ca2(image, text, chunk_rows=29), whole)  # one chunk: the whole path
        for rows in (1, 4, 28):
            assert (ca2(image, text, chunk_rows=rows) - whole).abs().max() < 1e-5
