"""``taco.checks``: the one test of "an integer in a range" and of "a finite number", which JSON
and YAML values (``true``, NaN, a 400-digit integer) must pass before taco uses them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from taco.checks import (
    MAX_TORCH_SEED,
    as_float,
    as_int,
    is_int,
    is_number,
    positive_int_argument,
    seed_argument,
)
from taco.errors import TacoValueError


@pytest.mark.parametrize("value, lo, hi, expected", [
    (3, None, None, True), (0, 0, None, True), (-1, 0, None, False), (7, 1, 7, True),
    (8, 1, 7, False), (10**400, 1, None, True), (10**400, 1, 2**16, False),
    (True, None, None, False), (False, 0, 1, False), (1.0, None, None, False),
    ("1", None, None, False), (None, None, None, False), ([1], None, None, False),
])
def test_is_int_takes_ints_in_range_and_no_bools(value, lo, hi, expected):
    assert is_int(value, lo, hi) is expected


@pytest.mark.parametrize("value, expected", [
    (0, True), (-2, True), (0.004, True), (1e308, True), (10**300, True),
    (True, False), (False, False), (math.nan, False), (math.inf, False), (-math.inf, False),
    (10**400, False), ("0.5", False), (None, False), ([1.0], False),
])
def test_is_number_takes_finite_reals_and_no_bools(value, expected):
    assert is_number(value) is expected


@pytest.mark.parametrize("value, expected", [
    (3, 3), (-1, -1), (np.int64(3), 3), (np.uint8(255), 255), (10**400, 10**400),
    (True, None), (np.bool_(True), None), (3.0, None), (np.float32(3), None), ("3", None),
    (None, None),
])
def test_as_int_takes_python_and_numpy_integers_and_no_bools(value, expected):
    got = as_int(value)
    assert got == expected and (got is None or type(got) is int)


@pytest.mark.parametrize("value, expected", [
    (0.004, 0.004), (3, 3.0), (np.float32(0.5), 0.5), (np.float64(0.25), 0.25), (np.int64(2), 2.0),
    (True, None), (np.bool_(True), None), (math.nan, None), (np.float32("inf"), None),
    (10**400, None), ("0.5", None), (None, None), ([1.0], None),
])
def test_as_float_takes_finite_python_and_numpy_reals_and_no_bools(value, expected):
    got = as_float(value)
    assert got == expected and (got is None or type(got) is float)


@pytest.mark.parametrize("value, expected", [
    (0, 0), (7, 7), (np.int64(3), 3), (np.uint64(2**64 - 1), 2**64 - 1), (MAX_TORCH_SEED, 2**64 - 1),
])
def test_seed_argument_takes_python_and_numpy_integers_up_to_2_64(value, expected):
    got = seed_argument("seed", value)
    assert got == expected and type(got) is int


@pytest.mark.parametrize("value, kind", [
    ("1", "str"), (1.0, "float"), (True, "bool"), (np.bool_(True), "bool_"), (None, "NoneType"),
])
def test_seed_argument_refuses_other_types_naming_the_argument(value, kind):
    with pytest.raises(TypeError, match=f"^create_model: seed must be an integer, not {kind}$") as caught:
        seed_argument("create_model: seed", value)
    assert not isinstance(caught.value, ValueError)


def test_seed_argument_refuses_seeds_outside_the_generators_range():
    # torch reads -1 as 2**64 - 1 (the same weights) and cannot take 2**64; NumPy takes no -1
    for value in (-1, -(2**63), 2**64):
        with pytest.raises(TacoValueError, match=rf"^seed must be from 0 to {2**64 - 1} \(2\*\*64 - 1\), "
                                                 rf"got {value}$"):
            seed_argument("seed", value)
    # a seed of NumPy's alone has no upper bound, as NumPy has none
    assert seed_argument("seed", 2**70, most=None) == 2**70
    with pytest.raises(TacoValueError, match=r"^seed must be at least 0, got -1$"):
        seed_argument("seed", np.int64(-1), most=None)
    with pytest.raises(TacoValueError, match=r"got an integer of 6644 bits$"):  # not 2,000 digits said
        seed_argument("seed", -(10**2000), most=None)


@pytest.mark.parametrize("value, expected", [
    (2e9, 2_000_000_000), (10_000_000.0, 10_000_000), (np.float64(4e4), 40_000), (np.float32(2e9), 2_000_000_000),
    (7, 7), (np.int64(3), 3),
])
def test_positive_int_argument_takes_a_whole_float_where_asked(value, expected):
    """save_checkpoint(..., max_shard_bytes=2e9) saved before 3ea78c0 made it 'not float'."""
    got = positive_int_argument("max_bytes", value, "(bytes)", whole_floats=True)
    assert got == expected and type(got) is int


@pytest.mark.parametrize("value, error, message", [
    (2000.5, TacoValueError, "max_bytes must be a whole number (bytes), got 2000.5"),
    (math.nan, TacoValueError, "max_bytes must be a whole number (bytes), got nan"),
    (-math.inf, TacoValueError, "max_bytes must be a whole number (bytes), got -inf"),
    (0.0, TacoValueError, "max_bytes must be positive, got 0.0"),
    (-2e9, TacoValueError, "max_bytes must be positive, got -2000000000.0"),
    (True, TypeError, "max_bytes must be a whole number (bytes), not bool"),
    (np.bool_(False), TypeError, "max_bytes must be a whole number (bytes), not bool_"),
    ("2e9", TypeError, "max_bytes must be a whole number (bytes), not str"),
])
def test_positive_int_argument_refuses_what_is_no_whole_number_even_so(value, error, message):
    with pytest.raises(error) as caught:
        positive_int_argument("max_bytes", value, "(bytes)", whole_floats=True)
    assert str(caught.value) == message


def test_positive_int_argument_refuses_floats_unless_asked():
    """max_bytes, batch_size, ... still take integers alone."""
    with pytest.raises(TypeError, match=r"^batch_size must be an integer \(images\), not float$"):
        positive_int_argument("batch_size", 2.0, "(images)")
