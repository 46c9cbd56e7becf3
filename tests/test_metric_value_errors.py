"""A bad value given to taco.metrics (images on the wrong scale, of the wrong shape or too small,
an unknown metric or LPIPS convention, feature sets FID cannot fit) is a ``taco.TacoValueError``:
a TacoError and still the ValueError it was, with the message it had. Each is refused before
any network is loaded."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from taco import metrics as M
from taco.errors import TacoValueError


def refused(message: str):
    """The refusal of a bad value: a TacoValueError whose message starts with ``message``."""
    return pytest.raises(TacoValueError, match="^" + re.escape(message))


def images(height: int = 32, width: int = 32, fill: float = 0.5) -> torch.Tensor:
    return torch.full((1, 3, height, width), fill)


def test_images_on_another_scale():
    with refused("x has values from 255 to 255: metrics take floats in [0, 1] (divide 0-255 "
                 "values by 255)"):
        M.psnr(images(fill=255.0), images())
    with refused("x has values from -1 to -1: metrics take floats in [0, 1] (map [-1, 1] values "
                 "with (x + 1) / 2)"):
        M.psnr(images(fill=-1.0), images())
    ramp = torch.linspace(-2.1, 2.6, 32 * 32 * 3).reshape(1, 3, 32, 32)  # ImageNet-normalised
    with refused("x has values from -2.1 to 2.6: metrics take floats in [0, 1] (undo the mean/std "
                 "normalisation: x * std + mean per channel (ImageNet's: mean (0.485, 0.456, 0.406), "
                 "std (0.229, 0.224, 0.225)))"):
        M.psnr(ramp, images())
    with refused("x has values from 1000 to 1000: expected [0, data_range=255]"):
        M.psnr(images(fill=1000.0), images(), data_range=255)
    with pytest.raises(ValueError):  # older `except ValueError` code still catches it
        M.mse(images(fill=255.0), images())


def test_images_of_another_shape():
    with refused("x and x_hat differ in shape: (1, 3, 32, 32) vs (1, 3, 32, 16)"):
        M.psnr(images(), images(32, 16))
    with refused("expected RGB images (B, 3, H, W) or (3, H, W), got (1, 1, 32, 32)"):
        M.mse(torch.zeros(1, 1, 32, 32), torch.zeros(1, 1, 32, 32))


def test_images_too_small_for_ms_ssim_or_lpips():
    with refused("MS-SSIM (5 scales) needs images of at least 161 px on the smaller side, got (32, 200)"):
        M.ms_ssim(images(32, 200), images(32, 200))
    with refused("LPIPS (AlexNet) needs images of at least 31 px on the smaller side, got (16, 16)"):
        M.lpips(images(16, 16), images(16, 16))


def test_an_unknown_metric_or_lpips_convention():
    with refused("lpips_input must be one of standard, official, got 'tf'"):
        M.check_lpips_input("tf")
    with refused("unknown metrics ['ssim']; choose from ('psnr', 'ms_ssim', 'lpips')"):
        M.compute_metrics(images(), images(), which="ssim")


def test_feature_sets_fid_cannot_fit():
    with refused("features must be (N >= 2, D), got (1, 4)"):
        M.fid_from_features(np.zeros((1, 4)), np.zeros((3, 4)))
    with refused("feature sets differ in dimension"):
        M.fid_from_features(np.zeros((3, 4)), np.zeros((3, 5)))


def test_inception_features_of_images_not_rgb():
    """The shape is checked before the network is used: an extractor without its weights
    (object.__new__, nothing loaded) refuses as a loaded one does."""
    extractor = object.__new__(M.InceptionFeatures)
    with refused("expected RGB images (N, 3, H, W), got (3, 32, 32)"):
        extractor(torch.zeros(3, 32, 32))
