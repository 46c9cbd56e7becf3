"""The float64 coding copy (taco.models.coding.coding_codec) is cached beside the model, not on
it: built once, gone with the model, never pickled or copied with it."""

from __future__ import annotations

import copy
import gc
import pickle
import weakref

import pytest

import taco
from taco.models import create_model
from taco.models.coding import coding_codec
from taco.samples import SAMPLES_DIR

SAMPLE = SAMPLES_DIR / "skimage-coffee.png"


@pytest.mark.parametrize("name", ["elic-tiny", "taco-tiny"])
def test_a_model_with_a_coding_copy_is_freed(name):
    model = create_model(name, seed=0)
    codec = weakref.ref(coding_codec(model))
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None  # the copy holds no reference back to its model
    assert codec() is None  # and goes with it


def test_the_copy_is_built_once_and_kept_off_the_model():
    model = create_model("elic-tiny", seed=0)
    attributes, pickled = set(vars(model)), len(pickle.dumps(model))
    codec = coding_codec(model)
    assert coding_codec(model) is codec
    assert set(vars(model)) == attributes
    assert len(pickle.dumps(model)) == pickled  # a pickle of the model does not carry the copy
    for other in (copy.copy(model), copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert set(vars(other)) == attributes
        assert coding_codec(other) is not codec


def test_a_copied_model_codes_the_same_bytes():
    model = create_model("elic-tiny", seed=0)
    data = taco.compress(SAMPLE, None, model)  # builds the coding copy
    for other in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert taco.compress(SAMPLE, None, other) == data
        assert taco.decompress(data, other).tobytes() == taco.decompress(data, model).tobytes()
