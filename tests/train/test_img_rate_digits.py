"""The log line's img/s has three significant digits: a slow CPU's 0.04 img/s read '0.0 img/s'."""

import pytest

from taco.train.run_log import per_second, train_postfix

VALUES = {"loss": 1.0, "bpp": 0.5, "mse_term": 0.4, "lpips": 0.3, "joint_term": 0.0, "psnr": 20.0}


@pytest.mark.parametrize(("rate", "shown"), [
    (0.0412, "0.0412"), (0.4, "0.400"), (2.345, "2.35"), (14.23, "14.2"), (123.4, "123"),
    (1234.5, "1234"), (0.0, "0"),
])  # fmt: skip
def test_per_second_keeps_three_significant_digits(rate, shown):
    assert per_second(rate) == shown


def test_a_slow_cpus_log_line_does_not_say_zero():
    assert train_postfix(VALUES, 0.0412).endswith(" 0.0412 img/s")
