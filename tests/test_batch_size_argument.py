"""``compress_batch``'s ``batch_size`` is checked as ``max_bytes`` and ``stripe_budget`` are
(:func:`taco.checks.positive_int_argument`): a wrong type is a TypeError, a value under 1 a
TacoValueError, as docs/reliability.md says of every argument."""

from __future__ import annotations

import numpy as np
import pytest

from taco.errors import TacoError, TacoValueError
from taco.pipeline import compress_batch


@pytest.fixture(scope="module")
def small(sample_image):
    return sample_image.crop((0, 0, 32, 32))


@pytest.mark.parametrize("name", ["batch_size", "max_bytes", "stripe_budget"])
@pytest.mark.parametrize("value", ["2", 2.0, True, [2]])
def test_a_wrong_type_is_a_type_error_for_each(tiny_elic, small, name, value):
    with pytest.raises(TypeError, match=f"{name} must be an integer") as err:
        compress_batch([small], None, tiny_elic, **{name: value})
    assert not isinstance(err.value, TacoError)  # a mistake in the calling code, not bad input


@pytest.mark.parametrize("name", ["batch_size", "max_bytes", "stripe_budget"])
@pytest.mark.parametrize("value", [0, -3, np.int64(0)])
def test_a_value_under_one_is_a_taco_value_error_for_each(tiny_elic, small, name, value):
    with pytest.raises(TacoValueError, match=f"{name} must be positive, got"):
        compress_batch([small], None, tiny_elic, **{name: value})


def test_a_numpy_integer_is_a_batch_size(tiny_elic, small):
    one = compress_batch([small, small], None, tiny_elic, batch_size=1)
    numpy = compress_batch([small, small], None, tiny_elic, batch_size=np.int64(2))
    assert len(numpy) == 2 and all(r.data for r in numpy)
    assert [r.quality for r in numpy] == [r.quality for r in one]
