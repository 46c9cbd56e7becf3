"""An ImageReadError from compress_batch pickles with its message's "image N (counting from 0): "
start (it was rebuilt from the path and reason alone, losing it)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import taco
from taco.images import ImageReadError
from taco.models import create_model


def test_the_index_survives_pickle():
    images = [np.zeros((32, 32, 3), np.uint8), b"not an image"]
    with pytest.raises(ImageReadError) as caught:
        taco.compress_batch(images, None, create_model("elic-tiny"))
    sent = caught.value
    back = pickle.loads(pickle.dumps(sent))
    assert str(sent).startswith("image 1 (counting from 0): cannot read image")
    assert type(back) is ImageReadError
    assert str(back) == str(sent)
    assert (back.path, back.reason) == (sent.path, sent.reason)


def test_a_plain_one_pickles_as_before():
    back = pickle.loads(pickle.dumps(ImageReadError("", "empty")))
    assert (str(back), back.reason) == ("cannot read image '': empty", "empty")
