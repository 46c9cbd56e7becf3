"""An out-of-range quality's message shows the integer, not its repr: with NumPy >= 2
``repr(np.int64(9))`` is ``np.int64(9)``, so "got {quality!r}" read "got np.int64(9)"
(taco.models.gains.check_quality). An int subclass with NumPy 2's repr stands in for it here,
whatever NumPy is installed."""

from __future__ import annotations

import numpy as np
import pytest

from taco.errors import TacoValueError
from taco.models.gains import QualityGains, check_quality


class Numpy2Int(int):
    def __repr__(self) -> str:
        return f"np.int64({int(self)})"


@pytest.mark.parametrize("quality", [Numpy2Int(9), np.int64(9), 9])
def test_the_message_shows_the_integer(quality):
    with pytest.raises(TacoValueError, match=r"quality must be an integer 1\.\.7, got 9$"):
        check_quality(quality, 7)


def test_index_errors_are_what_its_docstring_says():
    gains = QualityGains([0.001, 0.01], M=4, N=2)
    assert gains.index(np.int64(2)) == 1
    with pytest.raises(TypeError, match="not float"):
        gains.index(2.0)
    for quality in (None, 3, 0):
        with pytest.raises(TacoValueError):
            gains.index(quality)
