"""numpy images in another byte order (``>u2``, ``>f4``) or of a float type torch lacks
(``np.longdouble``) are coded as their native float64/uint16 twins; others are refused with
a TacoValueError naming the dtype (they reached torch's own ValueError and TypeError)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import taco
from taco.errors import TacoValueError
from taco.models import create_model


@pytest.fixture(scope="module")
def model():
    return create_model("elic-tiny")


RGB = np.random.default_rng(0).random((20, 24, 3))


@pytest.mark.parametrize("dtype,native", [(">f4", "<f4"), (">f8", "<f8"),
                                          (np.longdouble, np.float64)])
def test_float_arrays_code_as_their_native_twin(model, dtype, native):
    assert taco.compress(RGB.astype(dtype), "", model) == taco.compress(RGB.astype(native), "", model)


def test_big_endian_uint16_grey_is_a_uint16_image(model):
    grey = (RGB[..., 0] * 65535).astype("<u2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", taco.ImageConversionWarning)  # 16 bits coded as 8
        assert taco.compress(grey.astype(">u2"), "", model) == taco.compress(grey, "", model)


def test_other_big_endian_arrays_are_refused_naming_their_dtype(model):
    with pytest.raises(TacoValueError, match=r">i4 \(20, 24, 3\)"):
        taco.compress((RGB * 255).astype(">i4"), "", model)
