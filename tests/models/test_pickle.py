"""A model pickles (a spawn pool, Ray or Dask can be handed one) and codes the same after."""

from __future__ import annotations

import multiprocessing
import pickle

import pytest

import taco
from taco.samples import SAMPLES_DIR

SAMPLE = SAMPLES_DIR / "skimage-coffee.png"
CAPTION = "a cup of coffee on a saucer"


@pytest.mark.parametrize("name", [taco.DEFAULT_MODEL, "elic-tiny", "taco-tiny"])
def test_a_model_that_has_coded_pickles_and_codes_the_same_bytes(name):
    model = taco.load(name) if name == taco.DEFAULT_MODEL else taco.create_model(name)
    data = taco.compress(SAMPLE, CAPTION, model)  # builds the float64 coding copy, a cache
    again = pickle.loads(pickle.dumps(model))
    assert type(again) is type(model) and again.model_id == model.model_id and not again.training
    assert taco.compress(SAMPLE, CAPTION, again) == data
    assert taco.decompress(data, again).tobytes() == taco.decompress(data, model).tobytes()


def _compress_in_worker(model) -> bytes:
    return taco.compress(SAMPLE, CAPTION, model)


@pytest.mark.slow
def test_a_spawn_pool_can_be_handed_a_model():
    model = taco.create_model("taco-tiny")
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(_compress_in_worker, (model,)) == taco.compress(SAMPLE, CAPTION, model)
