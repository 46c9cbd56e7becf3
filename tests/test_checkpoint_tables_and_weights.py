"""taco.models.checkpoint's checks of what a checkpoint gives: entropy-coder tables (an offset below
-(cdf_length - 3), a CDF not starting at 0 or with a zero-frequency symbol are malformed) and
finite weights (a float32 sum overflowing to inf is no infinite weight); a
state missing one coder table has it rebuilt on load."""

from __future__ import annotations

import pytest
import torch
from compressai.entropy_models import EntropyBottleneck

from taco.models import CheckpointError, create_model
from taco.models.checkpoint import check_entropy_tables, check_finite, non_finite

MALFORMED = r"entropy-coder tables \(.*entropy_bottleneck\) are malformed"


def bottleneck() -> tuple[torch.nn.Module, EntropyBottleneck]:
    model = create_model("elic-tiny", seed=0)
    model.update(force=True)
    check_entropy_tables(model)  # a model's own tables pass
    return model, next(m for m in model.modules() if isinstance(m, EntropyBottleneck))


@pytest.mark.parametrize("below", [1, 1 << 30])
def test_an_offset_below_minus_cdf_length_minus_3_is_refused(below):
    model, eb = bottleneck()
    lowest = -(int(eb._cdf_length[0]) - 3)
    with torch.no_grad():
        eb._offset[0] = lowest
    check_entropy_tables(model)  # the lowest CompressAI's update makes
    with torch.no_grad():
        eb._offset[0] = lowest - below
    with pytest.raises(CheckpointError, match=MALFORMED):
        check_entropy_tables(model)


def test_a_cdf_that_does_not_start_at_0_is_refused():
    model, eb = bottleneck()
    with torch.no_grad():
        eb._quantized_cdf[0, 0] = 1
    with pytest.raises(CheckpointError, match=MALFORMED):
        check_entropy_tables(model)


def test_a_cdf_with_a_zero_frequency_symbol_is_refused():
    model, eb = bottleneck()
    with torch.no_grad():
        eb._quantized_cdf[0, 2] = eb._quantized_cdf[0, 1]
    with pytest.raises(CheckpointError, match=MALFORMED):
        check_entropy_tables(model)


def test_finite_weights_whose_sum_overflows_are_finite():
    big = {"g_s.0.weight": torch.full((4,), 3e38)}  # float32 sum: inf
    assert not bool(big["g_s.0.weight"].sum().isfinite())
    assert non_finite(big) == []
    check_finite(big)
    bad = {"g_s.0.weight": torch.tensor([3e38, 3e38, float("inf"), 1.0])}
    assert non_finite(bad) == ["g_s.0.weight"]
    with pytest.raises(CheckpointError, match="tensor g_s.0.weight holds NaN or infinite values"):
        check_finite(bad)


def test_a_state_missing_one_coder_table_has_it_rebuilt_on_load():
    import torch

    import taco

    source = taco.create_model("elic-tiny", seed=0)
    state = source.state_dict()
    key = next(k for k in state if k.endswith("gaussian_conditional._quantized_cdf"))
    del state[key]  # the other coder tables and the scale table are there
    model = taco.create_model("elic-tiny", seed=1)
    model.load_state_dict(state, strict=True)
    assert torch.equal(model.state_dict()[key], source.state_dict()[key])
