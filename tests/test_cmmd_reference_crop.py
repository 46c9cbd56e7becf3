"""CMMD sees each image as the CMMD reference does: the centred square (side = the shorter side)
resized to the CLIP's input size. google-research cmmd/io_util.py (and its PyTorch port,
sayakpaul/cmmd-pytorch) crops that square and resizes it with PIL bicubic before embedding;
taco resizes the shorter side first and crops after (:func:`taco.metrics.clip_preprocess`), the
same square. A change outside it (the ends of the longer side) leaves CMMD at 0, in the
reference too, so no "whole image squashed to a square" variant must creep in here."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from taco import metrics as M
from taco.evaluation.measure import SetMetrics


@pytest.fixture(scope="module")
def clip() -> torch.nn.Module:
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    cfg = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                           num_attention_heads=2, image_size=32, patch_size=16, projection_dim=16)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return CLIPVisionModelWithProjection(cfg).eval()


def images(n: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 3, h, w, generator=g) * 255).round() / 255


def test_clip_preprocess_is_the_references_centre_square_resized() -> None:
    x = images(2, 48, 72)  # landscape 3:2, as Kodak's 768 x 512
    mean = torch.tensor(M.CLIP_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(M.CLIP_STD).view(1, 3, 1, 1)
    ours = M.clip_preprocess(x, size=32) * std + mean
    # the reference: crop the centred 48 x 48 square, then resize it (bicubic, antialiased) to 32
    square = x[..., :, 12:60]
    ref = F.interpolate(square, size=(32, 32), mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)
    assert ours.shape == ref.shape == (2, 3, 32, 32)
    # the same pixels away from the crop's border, where the resize's kernel reaches past it
    assert torch.allclose(ours[..., 2:-2], ref[..., 2:-2], atol=1e-5)
    assert (ours - ref).abs().mean() < 0.02
    # portrait: the centred square of the taller side
    tall = x.transpose(-1, -2)
    assert torch.allclose(M.clip_preprocess(tall, size=32), M.clip_preprocess(x, size=32).transpose(-1, -2),
                          atol=1e-5)


def test_cmmd_counts_the_centre_square_only(clip: torch.nn.Module) -> None:
    orig = images(4, 32, 48, seed=1)  # the square seen: columns 8..39
    edges = orig.clone()
    edges[..., :6], edges[..., -6:] = 0.0, 1.0
    centre = orig.clone()
    centre[..., 8:24, 14:34] = 0.0
    assert M.cmmd(orig, edges, clip) == pytest.approx(0.0, abs=1e-9)
    assert M.cmmd(orig, centre, clip) > 1e-4
    # evaluate's path alike, and its JSON says how the images were resized
    sets = SetMetrics(n_images=4, fid="off", clip_model=clip)
    feats = {name: {str(i): sets.features(x[i : i + 1]) for i in range(4)}
             for name, x in (("orig", orig), ("edges", edges), ("centre", centre))}
    pairs = [(str(i), str(i)) for i in range(4)]
    assert sets.compute(feats["orig"], feats["edges"], pairs)["cmmd"] == pytest.approx(0.0, abs=1e-9)
    centre_cmmd = sets.compute(feats["orig"], feats["centre"], pairs)["cmmd"]
    assert centre_cmmd is not None and centre_cmmd > 1e-4
    assert "centred square resized to 32x32" in sets.describe()["cmmd"]["embedding"]
