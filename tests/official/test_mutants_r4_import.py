"""An authors' checkpoint with an empty (0-sized) tensor (review M4's surviving mutant O7): the
import refuses it naming that tensor and its shape, not with a later, vaguer complaint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from taco.models import CheckpointError
from taco.official import import_checkpoint

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "official" / "taco-tiny.pth.tar"


@pytest.mark.parametrize("dim", [0, 1])
def test_an_empty_weight_is_refused_by_name(tmp_path, dim):
    obj = torch.load(GOLDEN, weights_only=True)
    key = "module.local_context.0.weight"
    shape = list(obj["state_dict"][key].shape)
    shape[dim] = 0
    obj["state_dict"][key] = torch.zeros(shape)
    path = tmp_path / "empty.pth.tar"
    torch.save(obj, path)
    with pytest.raises(CheckpointError) as caught:
        import_checkpoint(path, "clip-tiny")
    assert f"local_context.0.weight is {shape}" in str(caught.value)
    assert "no empty dimension" in str(caught.value)
