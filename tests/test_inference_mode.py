"""Every public entry point works inside ``torch.inference_mode()`` and gives the bytes and pixels
it gives outside it; a model used there works outside it afterwards, and the other way round.

Inference tensors (made inside inference mode) keep no version counter: reading ``t._version``
raised "Inference tensors do not track version counter", and the first call inside inference mode
kept a coding copy of such tensors, which broke the model for the rest of the process.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import taco
from taco.bitstream.rans import coder_tables
from taco.models import create_model, model_fingerprint

MODEL = "elic-small-q4"


@pytest.fixture(scope="module")
def image(sample_image) -> Image.Image:
    return sample_image.crop((0, 0, 128, 96))


@pytest.fixture(scope="module")
def reference(image) -> tuple[bytes, np.ndarray]:
    """The bytes and decoded pixels of ``image``, from a model never used in inference mode."""
    model = taco.load(MODEL)
    data = taco.compress(image, None, model)
    return data, np.asarray(taco.decompress(data, model))


def _pixels(data, model=None) -> np.ndarray:
    return np.asarray(taco.decompress(data, model))


def test_a_cold_model_codes_in_inference_mode_then_outside_it(image, reference):
    data, pixels = reference
    model = taco.load(MODEL)  # its coding copy is first built inside inference mode
    with torch.inference_mode():
        assert taco.compress(image, None, model) == data
        assert np.array_equal(_pixels(data, model), pixels)
    assert taco.compress(image, None, model) == data
    assert np.array_equal(_pixels(data, model), pixels)
    with torch.inference_mode():  # and in again
        assert taco.compress(image, None, model) == data


def test_the_coding_copy_built_in_inference_mode_is_of_ordinary_tensors():
    """Kept on the model for calls outside inference mode. (CompressAI's masked convolutions then
    replace their own weight with each forward pass, in whatever mode it runs.)"""
    model = taco.load(MODEL)
    with torch.inference_mode():
        coding = taco.codec.coding_codec(model)
    assert not any(t.is_inference() for t in [*coding.parameters(), *coding.buffers()])


def test_a_model_used_outside_inference_mode_codes_inside_it(image, reference):
    data, pixels = reference
    model = taco.load(MODEL)
    assert taco.compress(image, None, model) == data
    with torch.inference_mode():
        assert taco.compress(image, None, model) == data
        assert np.array_equal(_pixels(data, model), pixels)
    assert np.array_equal(_pixels(data, model), pixels)


def test_decompress_without_a_model_and_info_in_inference_mode(reference):
    data, pixels = reference
    with torch.inference_mode():
        assert np.array_equal(_pixels(data), pixels)
        assert taco.info(data).header.model_id == MODEL
    assert np.array_equal(_pixels(data), pixels)


def test_compress_batch_in_inference_mode(image, reference):
    data, _ = reference
    model = taco.load(MODEL)
    with torch.inference_mode():
        results = taco.compress_batch([image, image], None, model, batch_size=1)
    assert [r.data for r in results] == [data, data]
    assert [r.data for r in taco.compress_batch([image], None, model, batch_size=1)] == [data]


def test_a_model_loaded_in_inference_mode_is_an_ordinary_model(image, reference):
    data, pixels = reference
    with torch.inference_mode():
        model = taco.load(MODEL)
    assert not any(t.is_inference() for t in model.state_dict().values())
    assert taco.compress(image, None, model) == data
    with torch.inference_mode():
        assert np.array_equal(_pixels(data, model), pixels)
    with torch.no_grad():
        assert taco.compress(image, None, model) == data
    # it trains: inference tensors cannot be saved for backward
    model.train()
    out = model(torch.rand(1, 3, 64, 64))
    out["x_hat"].sum().backward()
    assert all(p.grad is not None for p in model.g_s.parameters())


def test_a_model_made_in_inference_mode_codes_and_its_changes_are_seen(image):
    """A model of inference tensors (created there) has no version counters to cache its
    fingerprint and coder tables on: they follow in-place writes all the same."""
    with torch.inference_mode():
        model = create_model("elic-tiny", seed=0)
        assert next(model.parameters()).is_inference()
        before = taco.compress(image, None, model)
        fingerprint = model_fingerprint(model)
    assert taco.compress(image, None, model) == before  # outside it too
    reference = taco.compress(image, None, create_model("elic-tiny", seed=0))
    assert before == reference
    with torch.inference_mode():
        for p in model.latent_codec.parameters():
            p.mul_(1.5)  # allowed inside inference mode, and counted nowhere
        model.update(force=True)
        assert model_fingerprint(model) != fingerprint
        assert taco.compress(image, None, model) != before


def test_coder_tables_of_inference_tensors_follow_in_place_writes():
    em = create_model("elic-tiny", seed=0).latent_codec.entropy_bottleneck
    with torch.inference_mode():
        em.update(force=True)  # its tables are inference tensors now
        assert em._quantized_cdf.is_inference()
        first = coder_tables(em)
        assert coder_tables(em) is first  # unchanged: reused
        em._offset.sub_(1)
        second = coder_tables(em)
    assert second is not first
    assert second.offsets == [o - 1 for o in first.offsets]
    assert coder_tables(em) is second  # outside inference mode too
