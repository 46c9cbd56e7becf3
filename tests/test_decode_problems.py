"""One check decides whether a model decodes a ``.taco`` file (:func:`taco.resolve.decode_problems`):
it made the file, and a model taken from the file's own name is under the decoder's cap for its
width. ``taco decompress`` (before a batch decodes) and ``taco.decompress`` (each call:
:func:`taco.codec.model_for_file`) both ask it, and say what it says."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import taco
import taco.resolve
from taco import TacoFormatError
from taco.bitstream import unpack
from taco.codec import model_for_file
from taco.resolve import decode_problems


@pytest.fixture(scope="module")
def wide():
    model = taco.create_model("elic-vr")  # M = 160: wider than the built-ins, untrained
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    return model, unpack(taco.compress(image, None, model)).header


def test_the_one_check(wide, tiny_elic) -> None:
    model, header = wide
    assert decode_problems(header, model, given=None, cli=False, max_pixels=None) == (None, None)
    made_with, capped = decode_problems(header, model, given=None, cli=False, max_pixels=64 * 64,
                                       no_cap="NOCAP")
    assert made_with is None and capped is not None and "160 latent channels" in capped and capped.endswith("NOCAP to decode it anyway")
    # a model the caller gives is held to the pixels alone (the container checks those)
    assert decode_problems(header, model, given="elic-vr", cli=True, max_pixels=64 * 64) == (None, None)
    other, too_big = decode_problems(header, tiny_elic, given="elic-tiny", cli=True, max_pixels=None)
    assert too_big is None and other is not None and other.startswith("this file was made with model 'elic-vr', not with --model 'elic-tiny'")


def test_checked_records_each_model_and_weights_once(wide, monkeypatch) -> None:
    model, header = wide
    calls = []
    real = taco.resolve.made_with_problem
    monkeypatch.setattr(taco.resolve, "made_with_problem",
                        lambda *a, **k: calls.append(a[:2]) or real(*a, **k))
    checked: dict = {}
    for cap in (None, 64 * 64, None):  # the cap is asked of each file; the weights once
        made_with, too_big = decode_problems(header, model, given=None, cli=True, max_pixels=cap,
                                            checked=checked)
        assert made_with is None and (too_big is None) == (cap is None)
    assert len(calls) == 1


def test_the_library_asks_it(wide, tiny_elic) -> None:
    model, header = wide
    assert model_for_file(header, model, 64 * 64) is model
    with pytest.raises(TacoFormatError, match="not with the model given"):
        model_for_file(header, tiny_elic, None)
    with pytest.raises(TacoFormatError, match="160 latent channels .* max_pixels=None"):
        model_for_file(header, None, 64 * 64)


def test_checked_keeps_each_weights_and_given_apart(wide) -> None:
    """``checked`` is keyed by (given, model, weights): a file of the same model with other
    weights is checked on its own, and so is the same file asked with another ``given``."""
    model, header = wide
    other = dataclasses.replace(header, fingerprint=bytes(len(header.fingerprint)))
    checked: dict = {}
    assert decode_problems(header, model, given=None, cli=True, max_pixels=None,
                           checked=checked) == (None, None)
    made_with, _ = decode_problems(other, model, given=None, cli=True, max_pixels=None, checked=checked)
    assert made_with is not None and "elic-vr" in made_with
    fresh = decode_problems(other, model, given="elic-vr", cli=True, max_pixels=None)
    assert fresh[0] is not None and fresh[0] != made_with  # the words differ with --model
    assert decode_problems(other, model, given="elic-vr", cli=True, max_pixels=None,
                           checked=checked) == fresh
