"""A scale beyond the scale table's last entry takes the last index (the widest of the coder's
CDFs), as CompressAI's build_indexes: #{scale_table[:-1] entries < scale}, never one past it."""

from __future__ import annotations

import pytest
import torch

from taco.models import create_model
from taco.models.entropy import scale_indexes


@pytest.mark.parametrize("levels", [None, 256])
def test_a_scale_beyond_the_table_gets_the_last_index(levels):
    model = create_model("elic-tiny", seed=0)
    if levels is not None:
        model.set_scale_levels(levels)
    gc = model.latent_codec.gaussian_conditional
    table = gc.scale_table
    last = len(table) - 1
    assert last == (63 if levels is None else levels - 1)
    assert gc._quantized_cdf.shape[0] == len(table)  # one CDF per table entry: last is the widest
    beyond = torch.tensor([float(table[-1]) * 1.001, 1e4, 1e30], dtype=table.dtype)
    at_end = torch.stack([table[-1], torch.nextafter(table[-2], table[-1])])
    for dtype in (torch.float32, torch.float64):
        idx = scale_indexes(gc, beyond.to(dtype).reshape(1, 1, 1, -1))
        assert idx.flatten().tolist() == [last] * 3
        assert scale_indexes(gc, at_end.to(dtype).reshape(1, 1, 1, -1)).flatten().tolist() == [last, last]
    # just below the second-to-last entry: one index before
    below = torch.nextafter(table[-2], torch.tensor(0.0, dtype=table.dtype)).reshape(1, 1, 1, 1)
    assert scale_indexes(gc, below).item() == last - 1
