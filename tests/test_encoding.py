"""The encoder side of bounded memory: g_a in stripes above a budget (taco.codec), the files it
makes and the bytes it leaves alone below it."""

from __future__ import annotations

import pytest

import taco
from taco.codec import ANALYSIS_STRIPE_BUDGET, analysis_stripe_rows
from taco.images import image_to_tensor
from taco.metrics import psnr
from taco.models import ELIC
from taco.resolve import DEFAULT_MODEL


def stripe_rows_seen(model, monkeypatch) -> list[int | None]:
    """The ``stripe_rows`` each call of ``model.analysis`` gets, from now on in this test."""
    seen: list[int | None] = []
    analysis = model.analysis

    def spy(*args, **kwargs):
        seen.append(kwargs.get("stripe_rows"))
        return analysis(*args, **kwargs)

    monkeypatch.setattr(model, "analysis", spy)
    return seen


def _elic(n: int, cls: type[ELIC] = ELIC) -> ELIC:
    """An ELIC of width ``n`` with a small entropy model (the stripes depend on g_a alone)."""
    return cls(N=n, M=32, groups=(16, 16), ctx_hidden=(16, 16))


def test_stripe_rows_follow_the_budget():
    model = _elic(48)
    halo = model.analysis_halo
    assert analysis_stripe_rows(model, 2048, 1024) is None  # the budget itself: whole
    assert analysis_stripe_rows(model, 1088, 1920) is None  # 1080p, padded
    assert analysis_stripe_rows(model, 2048, 1088) is not None
    assert analysis_stripe_rows(_elic(192), 512, 1024) is None
    for h, w in [(3008, 4032), (4096, 4096), (32768, 256), (128, 32768)]:
        rows = analysis_stripe_rows(model, h, w)
        assert rows is not None and rows >= 2 * halo
        assert 8 * (rows + 2 * halo) * w * 48 <= ANALYSIS_STRIPE_BUDGET or rows == 18
    assert analysis_stripe_rows(model, 4096, 64, budget=1) == 18  # the smallest stripe


class WideReachELIC(ELIC):
    """A backbone whose g_a is wider (twice the width per pixel), down-samples 4x before its
    stripes and reaches 20 rows of that map: what taco.codec must read from the model."""

    analysis_stripe_scale = 4
    analysis_halo = 20

    @property
    def tiling_width(self) -> int:
        return 2 * self.N


def test_stripe_rows_follow_the_models_geometry():
    """The stripe height comes from the backbone's own halo, scale and width, not ELIC's."""
    wide = _elic(48, WideReachELIC)
    assert analysis_stripe_rows(wide, 4096, 64, budget=1) == 40  # twice its own halo
    assert analysis_stripe_rows(wide, 4096, 1024) == 216  # the budget // (96 * 4 * 1024) - 40
    assert analysis_stripe_rows(_elic(48), 4096, 1024) == 238  # ELIC's: the budget // (48 * 8 * 1024) - 18
    assert analysis_stripe_rows(wide, 2048, 1024) is not None  # 96 channels: over the budget


@pytest.mark.parametrize("which", ["default", "elic"])
def test_a_striped_encode_decodes_as_well_as_the_whole_one(which, sample_image, monkeypatch,
                                                           elic_checkpoint):
    """Stripes of 18 rows at H/8 (144 px: 3 for the 451x300 photo, padded to 320): a file as
    valid (the unchanged decoder reads it), with the quality and size of the whole-image encode;
    with the default built-in (trained, text-guided) and a seeded elic-small checkpoint."""
    model = taco.load(DEFAULT_MODEL if which == "default" else elic_checkpoint)
    caption = "A cat." if model.uses_text else None
    seen = stripe_rows_seen(model, monkeypatch)
    whole = taco.compress(sample_image, caption, model)
    striped = taco.compress(sample_image, caption, model, stripe_budget=1)
    assert seen == [None, 18]
    x = image_to_tensor(sample_image)
    q_whole = float(psnr(x, image_to_tensor(taco.decompress(whole, model))))
    q_striped = float(psnr(x, image_to_tensor(taco.decompress(striped, model))))
    assert abs(q_striped - q_whole) < 0.05
    assert abs(len(striped) - len(whole)) <= 0.01 * len(whole)


def test_at_or_under_the_budget_g_a_runs_whole_and_the_bytes_do_not_change(
    tiny_taco, sample_image, monkeypatch
):
    """The padded 512x320 photo times the width (16) is the budget: g_a whole, the bytes of a
    budget that never stripes (and of the default); one less: stripes, a file that decodes."""
    budget = 512 * 320 * tiny_taco.N
    seen = stripe_rows_seen(tiny_taco, monkeypatch)
    whole = taco.compress(sample_image, "A cat.", tiny_taco, stripe_budget=10**15)
    assert taco.compress(sample_image, "A cat.", tiny_taco) == whole
    assert taco.compress(sample_image, "A cat.", tiny_taco, stripe_budget=budget) == whole
    striped = taco.compress(sample_image, "A cat.", tiny_taco, stripe_budget=budget - 1)
    assert seen == [None, None, None, 21]  # 39 rows of budget less the halo; the map has 40
    assert taco.decompress(striped, tiny_taco).size == sample_image.size


@pytest.mark.parametrize("size", [(451, 300), (512, 320), (64, 65), (1, 1)])
@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_coding_input_is_the_padded_float_image(size, mode):
    """coding_input fills the padded tensor from the 8-bit pixels: the values (and, with no
    padding, the channels-last strides) of converting to float and then padding."""
    import numpy as np
    import torch
    from PIL import Image

    from taco.codec import coding_input, pad_to_multiple

    rng = np.random.default_rng(sum(size))
    channels = 4 if mode == "RGBA" else 3  # a random alpha, which matters: it warns when dropped
    image = Image.fromarray(rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)).convert(mode)
    with pytest.warns() if mode == "RGBA" else _no_warning():
        x, h, w, got_mode = coding_input(image)
    expected = pad_to_multiple(image_to_tensor(image.convert("RGB")))
    assert (h, w, got_mode) == (size[1], size[0], mode)
    assert torch.equal(x, expected)
    assert x.stride() == expected.stride()  # g_a's kernels, hence the bytes, follow the layout


def _no_warning():
    import contextlib

    return contextlib.nullcontext()
