"""Checkpoint hints and the --target-bpp budget: behaviours no earlier test pinned (mutation
testing, round 5)."""

import math
import pickle
from fractions import Fraction

import pytest
import torch

from taco.cli.compress import bpp_bytes
from taco.models.config import CheckpointError
from taco.models.header import no_checkpoint_message, read_checkpoint_header
from taco.shards import save_sharded


@pytest.mark.parametrize("bpp, width, height", [
    (Fraction(7, 10), 99, 81),  # 701.66 bytes: 701, not 702 (over the target)
    (Fraction(1, 3), 17, 13),  # 9.21
    (Fraction(9, 10), 5, 9),  # 5.06
    (Fraction(3, 4), 7, 11),  # 7.22
    (Fraction(1, 7), 33, 29),  # 17.09
    (Fraction(5, 9), 10, 10),  # 6.94
])
def test_the_target_bpp_budget_never_exceeds_the_target(bpp, width, height):
    budget = bpp_bytes(bpp, width, height)
    assert budget == math.floor(bpp * width * height / 8)
    assert budget * 8 <= bpp * width * height


def test_the_not_a_model_folder_hint_names_the_index_not_its_shards(tmp_path):
    """A folder holding a sharded checkpoint under another name: the hint gives the index, the
    one file of it that can be given as a model."""
    written = save_sharded({"w": torch.ones(1000), "v": torch.ones(1000)},
                           tmp_path / "mine.safetensors", max_bytes=6000)
    assert len(written) == 3  # the index and two shards
    message = no_checkpoint_message(tmp_path)
    assert "give one of its files (mine.safetensors.index.json)," in message
    assert not any(shard.name in message for shard in written[1:])


def test_a_plain_pickle_is_not_called_an_old_pytorch_checkpoint(tmp_path):
    """Only torch.save's legacy magic number marks a pre-1.6 PyTorch checkpoint; a pickle of
    protocol 2 starts with the same two bytes (0x80 0x02) and is no checkpoint at all."""
    notes = tmp_path / "notes.pkl"
    notes.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(CheckpointError) as err:
        read_checkpoint_header(notes)
    assert "PyTorch" not in str(err.value) and "import-checkpoint" not in str(err.value)
    legacy = tmp_path / "old.pth"
    torch.save({"a": torch.zeros(1)}, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError, match="before PyTorch 1.6"):
        read_checkpoint_header(legacy)
