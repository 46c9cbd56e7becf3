"""compress_batch checks every caption before coding any image, and says which image's caption
it refuses (a bad caption at index 2 failed after images 0-1 were coded, without the index)."""

from __future__ import annotations

import numpy as np
import pytest

import taco
from taco.models import create_model
from taco.text.base import CaptionTextError, CaptionTooLongError


@pytest.mark.parametrize("bad,error", [
    (5, TypeError),
    ("x" * 10_001, CaptionTooLongError),
    ("a \udc80 b", CaptionTextError),
])
def test_a_bad_caption_fails_before_any_image_is_coded(bad, error):
    model = create_model("taco-tiny")
    images = [np.zeros((32, 32, 3), np.uint8)] * 4
    captions = ["a", "b", bad, "d"]
    told = []
    with pytest.raises(error) as caught:
        taco.compress_batch(images, captions, model, batch_size=2,
                            progress=lambda stage, done, total: told.append(done))
    assert str(caught.value).startswith("image 2 (counting from 0): caption")
    assert told == []
