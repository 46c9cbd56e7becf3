"""A point at 0 bpp has no log rate: bd_rate and bd_metric leave it out, as a negative or
non-finite one, and give the delta of the other points. Review A: a mutant keeping 0 bpp points
passed (it failed inside SciPy on the -inf log rate)."""

from __future__ import annotations

import pytest

pytest.importorskip("bjontegaard")

from taco.evaluation.bdrate import bd_metric, bd_rate

ANCHOR = ([0.1, 0.2, 0.4, 0.8], [25.0, 27.0, 30.0, 33.0])
TEST = ([0.1, 0.2, 0.4, 0.8], [26.0, 28.0, 31.0, 34.0])


@pytest.mark.parametrize("method", ["pchip", "cubic"])
@pytest.mark.parametrize("extra", [0.0, -0.1])
def test_a_rate_point_at_or_below_zero_is_left_out(method, extra):
    rate, quality = ANCHOR
    with_it = ([extra, *rate], [10.0, *quality])
    for delta in (bd_rate, bd_metric):
        assert delta(*with_it, *TEST, method=method) == delta(*ANCHOR, *TEST, method=method)
        assert delta(*TEST, *with_it, method=method) == delta(*TEST, *ANCHOR, method=method)
    assert bd_rate(*with_it, *TEST).value == pytest.approx(-22.37772736365159, abs=1e-9)
    assert bd_metric(*with_it, *TEST).value == pytest.approx(1.0, abs=1e-9)
