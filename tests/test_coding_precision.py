"""A caller's reduced precision does not reach taco's float32 transforms: under
``torch.autocast("cpu", dtype=torch.bfloat16)`` compress wrote other bytes and decompress changed
about a third of the pixels by up to 3 levels (taco.draws.coding_defaults turns autocast off in
the calling thread); the process-wide settings taco cannot safely undo
(``torch.set_float32_matmul_precision("medium")``, oneDNN's bf16) give one
ReducedPrecisionWarning at the caller's line, as often as Python's warning filters say (once per
calling line under the default ones: a once-per-process flag, set before warning, left every
call after an error-filtered first one coding silently)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import taco
from taco.draws import reduced_precision_settings
from taco.errors import ReducedPrecisionWarning


@pytest.fixture(scope="module")
def image(sample_image):
    return sample_image.crop((0, 0, 192, 128))


@pytest.mark.parametrize("name", ["tiny_taco", "tiny_elic"])
def test_autocast_changes_neither_bytes_nor_pixels(request, image, name):
    model = request.getfixturevalue(name)
    data = taco.compress(image, "a cat", model)
    pixels = np.asarray(taco.decompress(data, model))
    for dtype in (torch.bfloat16, torch.float16):
        with torch.autocast("cpu", dtype=dtype):
            assert taco.compress(image, "a cat", model) == data
            assert taco.compress_batch([image], ["a cat"], model)[0].data == data
            assert np.array_equal(np.asarray(taco.decompress(data, model)), pixels)
            assert torch.is_autocast_enabled("cpu")  # the caller's setting is left as it was


def test_reduced_float32_precision_warns_at_the_callers_line(tiny_elic, image):
    assert reduced_precision_settings() == []
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        taco.compress(image, None, tiny_elic)
        assert not seen  # torch's defaults: nothing to say
        torch.set_float32_matmul_precision("medium")
        try:
            data = taco.compress(image, None, tiny_elic)
            taco.decompress(data, tiny_elic)
        finally:
            torch.set_float32_matmul_precision("highest")
    assert [w.category for w in seen] == [ReducedPrecisionWarning] * 2
    assert seen[0].filename == __file__
    # the one call, not the three backend settings torch derives from it
    assert str(seen[0].message).startswith("torch.set_float32_matmul_precision('medium'): float32")
    assert "may differ from other machines'" in str(seen[0].message)


def test_default_filters_warn_once_per_line_and_an_error_filter_refuses_every_call(tiny_elic, image):
    torch.set_float32_matmul_precision("high")
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("default")
            for _ in range(3):
                taco.compress(image, None, tiny_elic)
        assert [w.category for w in seen] == [ReducedPrecisionWarning]
        with warnings.catch_warnings():
            warnings.simplefilter("error", ReducedPrecisionWarning)
            for _ in range(3):
                with pytest.raises(ReducedPrecisionWarning):
                    taco.compress(image, None, tiny_elic)
    finally:
        torch.set_float32_matmul_precision("highest")


def test_mixed_legacy_and_backend_settings_warn_instead_of_failing(tiny_elic, image):
    """``torch.get_float32_matmul_precision()`` raises RuntimeError once a per-backend matmul
    setting is set: every compress failed with it."""
    was = torch.backends.mkldnn.matmul.fp32_precision
    torch.backends.mkldnn.matmul.fp32_precision = "bf16"
    try:
        with pytest.warns(ReducedPrecisionWarning, match=r"mkldnn\.matmul\.fp32_precision = 'bf16'"):
            taco.compress(image, None, tiny_elic)
    finally:
        torch.backends.mkldnn.matmul.fp32_precision = was


@pytest.mark.skipif(not hasattr(torch.backends.mkldnn, "conv"), reason="no per-op oneDNN precision")
def test_onednn_bf16_convolutions_are_named():
    was = torch.backends.mkldnn.conv.fp32_precision
    torch.backends.mkldnn.conv.fp32_precision = "bf16"
    try:
        assert reduced_precision_settings() == ["torch.backends.mkldnn.conv.fp32_precision = 'bf16'"]
    finally:
        torch.backends.mkldnn.conv.fp32_precision = was
    assert reduced_precision_settings() == []
