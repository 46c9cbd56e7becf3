"""taco.data's argument checks are TacoValueError (still ValueError), as the rest of the public
API's are (docs/reliability.md, What to catch)."""

from __future__ import annotations

import pytest
import torch

from taco.data import RandomCrop, Sample, collate, karpathy_split, train_transform
from taco.errors import TacoValueError


@pytest.mark.parametrize(("call", "words"), [
    (lambda: train_transform(crop=0), "crop must be positive"),
    (lambda: RandomCrop(64, hflip=2.0), "hflip is a probability"),
    (lambda: karpathy_split([], "nope"), "unknown split 'nope'"),
])
def test_bad_values(call, words):
    with pytest.raises(TacoValueError, match=words) as info:
        call()
    assert isinstance(info.value, ValueError)


def test_images_of_different_sizes_do_not_batch():
    samples = [Sample(torch.zeros(3, 8, 8), "a", "a.png"), Sample(torch.zeros(3, 8, 16), "b", "b.png")]
    with pytest.raises(TacoValueError, match="cannot batch images of different sizes"):
        collate(samples)
