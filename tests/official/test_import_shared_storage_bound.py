"""``read_official_state_dict`` refuses a file whose tensors hold more than twice its bytes (+1 MiB):
tensors viewing one storage, which ``torch.save`` writes once, each counted at its full size when
imported (mutation round 7a, O10: the bound at four times went unnoticed)."""

from __future__ import annotations

import pytest
import torch

from taco.models import CheckpointError
from taco.official.checkpoint import read_official_state_dict


def _views(path, n):
    base = torch.zeros(1 << 18)  # 1 MiB of float32, stored once
    torch.save({"state_dict": {f"w{i}": base[:] for i in range(n)}}, path)
    return path


def test_tensors_sharing_one_storage_may_not_hold_over_twice_the_files_bytes(tmp_path):
    state, _ = read_official_state_dict(_views(tmp_path / "two.pth.tar", 2))  # 2 MiB from a 1 MiB file
    assert len(state) == 2
    with pytest.raises(CheckpointError, match=r"its tensors hold 4,194,304 bytes, more than the"):
        read_official_state_dict(_views(tmp_path / "four.pth.tar", 4))  # 4 MiB: over 2 x 1 MiB + 1 MiB
