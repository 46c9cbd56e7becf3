"""``taco.checks``: the one test of "an integer in a range" and of "a finite number", which JSON
and YAML values (``true``, NaN, a 400-digit integer) must pass before taco uses them."""

from __future__ import annotations

import math

import pytest

from taco.checks import is_int, is_number


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
