"""Count options refuse values that would make a silent empty (or wrong) run."""

import argparse

import pytest

from taco.cli import main
from taco.cli.common import MAX_THREADS, non_negative_int, positive_int, thread_count


@pytest.mark.parametrize(("parse", "good", "bad"), [(positive_int, "1", "0"), (non_negative_int, "0", "-1")])
def test_counts_accept_their_smallest_value_and_refuse_one_less(parse, good, bad):
    assert parse(good) == int(good)
    with pytest.raises(argparse.ArgumentTypeError, match=f"must be at least {good}, got {bad}"):
        parse(bad)


def test_a_count_that_is_not_an_integer_is_named():
    with pytest.raises(argparse.ArgumentTypeError, match="not an integer: '2.5'"):
        positive_int("2.5")


@pytest.mark.parametrize("command", ["evaluate", "bench"])
@pytest.mark.parametrize("value", ["99999999999999999999", str(MAX_THREADS + 1)])
def test_threads_has_an_upper_bound(command, value, capsys):
    """``--threads 10**20`` reached torch.set_num_threads, which raised OverflowError."""
    assert thread_count(str(MAX_THREADS)) == MAX_THREADS
    with pytest.raises(SystemExit) as stop:
        main([command, "--threads", value])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --threads: must be at most {MAX_THREADS}, got {value}" in err
    assert "Traceback" not in err
