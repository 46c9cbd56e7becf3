"""Count options refuse values that would make a silent empty (or wrong) run."""

import argparse

import pytest

from taco.cli.common import non_negative_int, positive_int


@pytest.mark.parametrize(("parse", "good", "bad"), [(positive_int, "1", "0"), (non_negative_int, "0", "-1")])
def test_counts_accept_their_smallest_value_and_refuse_one_less(parse, good, bad):
    assert parse(good) == int(good)
    with pytest.raises(argparse.ArgumentTypeError, match=f"must be at least {good}, got {bad}"):
        parse(bad)


def test_a_count_that_is_not_an_integer_is_named():
    with pytest.raises(argparse.ArgumentTypeError, match="not an integer: '2.5'"):
        positive_int("2.5")
