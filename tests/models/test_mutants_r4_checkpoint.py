"""Checkpoint checks at their bounds (review M4's surviving mutants K3, K6): entropy bottleneck
quantiles far below 0 are refused on load as those far above are; a compact checkpoint whose
scale table holds a 0 is refused at save."""

from __future__ import annotations

import pytest
import torch
from compressai.entropy_models import EntropyBottleneck

from taco.models import CheckpointError, create_model, load, save_checkpoint


@pytest.mark.parametrize("shift", [-1e6, 1e6])
def test_quantiles_far_from_0_either_way_are_refused(tmp_path, shift):
    model = create_model("elic-tiny", seed=0)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, EntropyBottleneck):
                module.quantiles += shift
    path = save_checkpoint(model, tmp_path / "m.safetensors")
    with pytest.raises(CheckpointError, match=r"quantiles are not a trained entropy model's"):
        load(path)


def test_a_compact_scale_table_holding_0_is_refused_at_save(tmp_path):
    model = create_model("elic-tiny", seed=0)
    model.update(force=True)
    changed = 0
    for module in model.modules():
        if hasattr(module, "scale_table") and module.scale_table.numel():
            table = module.scale_table.clone()
            table[0] = 0.0
            module.update_scale_table(table, force=True)
            changed += 1
    assert changed
    path = tmp_path / "m.safetensors"
    with pytest.raises(ValueError, match=r"scale_table: a compact checkpoint's scale tables have"):
        save_checkpoint(model, path, compact_tables=True)
    assert not path.exists()
