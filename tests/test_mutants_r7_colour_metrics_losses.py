"""Mutation round 7b: behaviour of taco.colour, taco.metrics and taco.losses that no test pinned
(each test names the mutant it kills)."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from PIL import Image
from torch import nn

from taco.colour import to_rgb
from taco.errors import TacoValueError
from taco.losses import ClipTowers, TacoLoss
from taco.metrics import MS_SSIM_MIN_SIDE, compute_metrics, psnr


def _nclx(code: int, transfer: int, red, green, blue) -> dict:
    return {"color_primaries": code, "transfer_characteristics": transfer,
            "color_primary_red_x": red[0], "color_primary_red_y": red[1],
            "color_primary_green_x": green[0], "color_primary_green_y": green[1],
            "color_primary_blue_x": blue[0], "color_primary_blue_y": blue[1],
            "color_primary_white_x": 0.3127, "color_primary_white_y": 0.329}


def _to_rgb(im: Image.Image, name: str) -> tuple[tuple[int, ...], list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rgb, _ = to_rgb(im, name)
    return rgb.getpixel((0, 0)), [str(w.message) for w in caught]


def _near(pixel, expected, tol=2) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(pixel, expected, strict=True))


def test_smpte_170m_primaries_are_not_taken_for_srgb():
    """K07: SMPTE 170M primaries (nclx 6) differ from sRGB's by ~0.01-0.02: converted, with a
    warning, not coded as they are."""
    im = Image.new("RGB", (4, 4), (40, 200, 40))
    im.info["nclx_profile"] = _nclx(6, 13, (0.63, 0.34), (0.31, 0.595), (0.155, 0.07))
    pixel, said = _to_rgb(im, "smpte.heic")
    assert _near(pixel, (63, 197, 37))
    assert len(said) == 1 and "converted from its nclx primaries 6" in said[0]


def test_an_unspecified_nclx_transfer_is_read_as_srgb():
    """K08: transfer 2 (unspecified) is sRGB's: a Display P3 photo so tagged is converted."""
    im = Image.new("RGB", (4, 4), (200, 40, 40))
    im.info["nclx_profile"] = _nclx(12, 2, (0.68, 0.32), (0.265, 0.69), (0.15, 0.06))
    pixel, said = _to_rgb(im, "p3.heic")
    assert _near(pixel, (218, 0, 26))
    assert len(said) == 1 and "converted from its Display P3 primaries to sRGB" in said[0]


def test_a_bilevel_image_with_a_transparent_colour_warns_it_is_dropped():
    """K13: mode "1" with a tRNS key is said, like the other keyed modes."""
    im = Image.new("1", (8, 8), 1)
    im.putpixel((0, 0), 0)
    im.info["transparency"] = 0
    _, said = _to_rgb(im, "bilevel.png")
    assert any("bilevel.png" in s and "dropped" in s for s in said)


def test_ms_ssim_is_measured_at_exactly_the_minimum_side():
    """M06: a smaller side of exactly MS_SSIM_MIN_SIDE px gets an MS-SSIM value, not NaN."""
    torch.manual_seed(0)
    x = torch.rand(1, 3, MS_SSIM_MIN_SIDE, MS_SSIM_MIN_SIDE + 8)
    y = (x + 0.05 * torch.randn_like(x)).clamp(0, 1)
    value = float(compute_metrics(x, y, "ms_ssim").ms_ssim[0])
    assert math.isfinite(value) and 0.5 < value < 1.0


def test_a_reference_well_above_one_is_refused():
    """M01: values up to 1.8 are not on the [0, 1] scale (the slack is a few percent)."""
    torch.manual_seed(0)
    x = torch.rand(1, 3, 32, 32) * 1.8
    with pytest.raises(TacoValueError, match="up to 1.7"):
        psnr(x, x.clamp(0, 1))


@pytest.mark.parametrize("weights", [{"beta": math.inf}, {"k_p": math.inf}])
def test_infinite_loss_weights_are_refused(weights):
    """L03: a weight must be finite as well as >= 0."""
    with pytest.raises(TacoValueError, match="must be a finite number >= 0"):
        TacoLoss(**{"k_p": 0.0, "k_j": 0.0, **weights})


def test_more_captions_than_images_is_a_clear_error():
    """L04: 3 captions for a batch of 2 images is refused, not an IndexError deep in torch. (The
    check comes before CLIP runs: towers that only look like a CLIPModel keep the test fast.)"""
    stub = nn.Module()
    stub.vision_model, stub.text_model = nn.Identity(), nn.Identity()
    loss = TacoLoss(k_p=0.0, k_j=1.0, clip=ClipTowers(stub, tokenizer=None))
    x = torch.rand(2, 3, 64, 64)
    out = {"x_hat": x * 0.9, "likelihoods": {"y": torch.full((2, 4, 4, 4), 0.5)}}
    with pytest.raises(TacoValueError, match="needs one caption per image"):
        loss(out, x, ["a cat", "a dog", "a bird"])
