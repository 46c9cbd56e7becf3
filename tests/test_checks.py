"""``taco.checks``: the one test of "an integer in a range" and of "a finite number", which JSON
and YAML values (``true``, NaN, a 400-digit integer) must pass before taco uses them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from taco.checks import as_float, as_int, is_int, is_number


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
