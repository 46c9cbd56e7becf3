"""A bad argument value is a ``taco.TacoValueError``: a ``taco.TacoError`` (``except
taco.TacoError`` catches it, as docs/reliability.md says of every error taco raises on purpose)
and still the ``ValueError`` it was. Each site a library caller reaches, checked before any work
where the codec can (no model output is needed to refuse them)."""

from __future__ import annotations

import io
import math
import pickle

import numpy as np
import pytest
import torch

import taco
from taco.bitstream import TacoHeader, pack
from taco.errors import TacoError, TacoValueError
from taco.models import create_model, register_architecture
from taco.pipeline import compress_batch
from taco.text.base import TextEncoder, TextTokens


@pytest.fixture(scope="module")
def variable_rate():
    """elic-tiny with three qualities: a variable-rate model that builds in a moment."""
    return create_model("elic-tiny", seed=0, qualities=[0.001, 0.004, 0.016])


@pytest.fixture(scope="module")
def small(sample_image):
    return sample_image.crop((0, 0, 64, 48))


def refused(match: str):
    return pytest.raises(TacoValueError, match=match)


def test_the_class_is_a_taco_error_and_a_value_error_and_exported():
    assert issubclass(TacoValueError, TacoError) and issubclass(TacoValueError, ValueError)
    assert taco.TacoValueError is TacoValueError and "TacoValueError" in taco.__all__
    again = pickle.loads(pickle.dumps(TacoValueError("quality must be 1..7")))
    assert type(again) is TacoValueError and str(again) == "quality must be 1..7"


def test_quality_out_of_range_and_on_a_single_rate_model(variable_rate, tiny_elic, small):
    with refused("quality must be an integer 1..3"):
        taco.compress(small, None, variable_rate, quality=9)
    with refused("single rate"):
        taco.compress(small, None, tiny_elic, quality=3)
    with pytest.raises(ValueError, match="single rate"):  # older `except ValueError` still works
        taco.compress_image(small, None, tiny_elic, quality=3)


def test_max_bytes_on_a_single_rate_model_or_beside_a_quality(variable_rate, tiny_elic, small):
    with refused("needs a variable-rate model"):
        taco.compress(small, None, tiny_elic, max_bytes=10_000)
    with refused("not both"):
        taco.compress(small, None, variable_rate, quality=2, max_bytes=10_000)
    with refused("max_bytes must be positive"):
        taco.compress(small, None, variable_rate, max_bytes=0)


def test_stripe_budget_and_max_pixels_of_zero(tiny_elic, small):
    with refused("stripe_budget must be positive"):
        taco.compress(small, None, tiny_elic, stripe_budget=0)
    data = taco.compress(small, None, tiny_elic)
    with refused("max_pixels must be positive"):
        taco.decompress(data, tiny_elic, max_pixels=0)


@pytest.mark.parametrize(("array", "match"), [
    (np.full((8, 8, 3), 255.0, dtype=np.float32), "values run from 255 to 255"),
    (np.full((8, 8, 3), math.nan, dtype=np.float32), "NaN"),
    (np.zeros((8, 8, 3), dtype=np.int64), "a numpy image must be"),
    (np.zeros((8, 8), dtype=np.float32), "a numpy image must be"),
], ids=["0-255 floats", "NaN", "int64", "float grey"])
def test_a_numpy_image_taco_does_not_take(tiny_elic, array, match):
    with refused(match):
        taco.compress(array, None, tiny_elic)


def test_an_image_tensor_taco_does_not_take(tiny_elic):
    with refused("values run from"):
        taco.compress(torch.full((3, 8, 8), 255.0), None, tiny_elic)
    with refused(r"expected a \(3, H, W\)"):
        taco.compress(torch.zeros(4, 8, 8), None, tiny_elic)
    with refused("must be float in"):
        taco.compress(torch.zeros(3, 8, 8, dtype=torch.int32), None, tiny_elic)


def test_no_caption_for_a_text_guided_model(tiny_taco, small):
    with refused("give a caption"):
        taco.compress(small, None, tiny_taco)
    with refused("image 1 .counting from 0. has none"):
        compress_batch([small, small], ["a cat", None], tiny_taco)


def test_images_and_captions_of_different_lengths_and_a_bad_batch_size(tiny_taco, small):
    with refused("2 images but 1 captions"):
        compress_batch([small, small], ["a cat"], tiny_taco)
    with refused("batch_size must be positive"):
        compress_batch([small], ["a cat"], tiny_taco, batch_size=0)


def test_a_text_encoder_that_does_not_match_the_model(tiny_taco, small):
    class Wrong(TextEncoder):
        name, dim, max_tokens = "wrong", 64, 38

        def _encode(self, captions):
            return TextTokens(torch.zeros(len(captions), 38, 64),
                              torch.ones(len(captions), 38, dtype=torch.bool))

    with refused("the text encoder does not match"):
        taco.compress(small, "a cat", tiny_taco, text_encoder=Wrong())


def test_create_model_of_an_unknown_name():
    with refused("unknown model 'nope'"):
        taco.create_model("nope")


def test_register_architecture_refusals(registry_restored):
    with refused("is taco's own"):
        register_architecture("elic", taco.ELIC)
    with refused("is taken"):
        register_architecture("mine", taco.ELIC, configs={"elic-tiny": {"N": 8, "M": 8}})
    with refused("config 'mine-tiny'"):
        register_architecture("mine", taco.ELIC, configs={"mine-tiny": {"N": 8, "M": 8, "bogus": 1}})


def test_pack_refuses_a_header_the_format_cannot_hold():
    header = TacoHeader("elic-tiny", b"\0" * 8, 16, 16, "RGB")
    with refused("fingerprint must be 8 bytes"):
        pack(TacoHeader("elic-tiny", b"\0" * 7, 16, 16, "RGB"), b"")
    with refused("unsupported original mode"):
        pack(TacoHeader("elic-tiny", b"\0" * 8, 16, 16, "XYZ"), b"")
    with refused("does not fit in one byte"):
        pack(TacoHeader("elic-tiny", b"\0" * 8, 16, 16, "RGB", quality=256), b"")
    with refused("unprintable"):
        pack(TacoHeader("a\nb", b"\0" * 8, 16, 16, "RGB"), b"")
    assert taco.info(pack(header, b"")).header == header


# ------------------------------------------------------------------ a batch names the bad image


def test_compress_batch_names_the_index_of_an_image_it_cannot_take(tiny_elic, small):
    good = io.BytesIO()
    small.save(good, format="PNG")
    with pytest.raises(taco.ImageReadError, match=r"^image 2 \(counting from 0\): cannot read image "
                                                  "'image bytes'"):
        compress_batch([small, good.getvalue(), b"not an image"], None, tiny_elic)
    with refused(r"^image 1 \(counting from 0\): the numpy array has NaN"):
        compress_batch([small, np.full((8, 8, 3), math.nan)], None, tiny_elic)
    with pytest.raises(TypeError, match=r"^image 0 \(counting from 0\): image must be"):
        compress_batch([42], None, tiny_elic)
