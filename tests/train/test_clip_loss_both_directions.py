"""clip_contrastive_loss is the mean of CLIP's two cross-entropies: text -> image (each caption's
row of similarities) and image -> text (each image's column). Review A: a mutant counting the
text -> image term twice passed, as every test used symmetric similarity matrices."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from taco.losses import CLIP_LOGIT_SCALE, clip_contrastive_loss


def _hand_loss(image_emb: torch.Tensor, text_emb: torch.Tensor) -> float:
    b = len(image_emb)
    sim = [[CLIP_LOGIT_SCALE * float(text_emb[t] @ image_emb[i]) for i in range(b)] for t in range(b)]

    def nll(scores: list[float], k: int) -> float:
        top = max(scores)
        return top + math.log(sum(math.exp(s - top) for s in scores)) - scores[k]

    text_to_image = sum(nll(sim[t], t) for t in range(b)) / b
    image_to_text = sum(nll([sim[t][i] for t in range(b)], i) for i in range(b)) / b
    return (text_to_image + image_to_text) / 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_contrastive_loss_is_the_mean_of_both_directions(seed):
    gen = torch.Generator().manual_seed(seed)
    image = F.normalize(torch.randn(4, 8, generator=gen, dtype=torch.float64), dim=1)
    text = F.normalize(torch.randn(4, 8, generator=gen, dtype=torch.float64), dim=1)
    expected = _hand_loss(image, text)
    assert clip_contrastive_loss(image, text).item() == pytest.approx(expected, rel=1e-9)
    # the two directions differ here, so one counted twice would not give the mean
    logits = CLIP_LOGIT_SCALE * text @ image.t()
    target = torch.arange(4)
    rows, cols = F.cross_entropy(logits, target).item(), F.cross_entropy(logits.t(), target).item()
    assert abs(rows - cols) > 1e-3
    # swapping the towers swaps the directions: the loss is symmetric in them
    assert clip_contrastive_loss(text, image).item() == pytest.approx(expected, rel=1e-9)
