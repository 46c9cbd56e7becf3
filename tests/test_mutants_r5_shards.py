"""taco.shards behaviours no earlier test pinned (mutation testing, round 5): a user's own
STEM-best.safetensors beside a checkpoint is no shard of it, the newer of a run's plain
checkpoint and its index is the one read, and an index that misplaces a tensor is refused."""

import json
import os
import shutil

import pytest
import torch

from taco import shards
from taco.errors import TacoWarning
from taco.train.checkpoints import clear_leftovers


def _two_shards(path):
    """A checkpoint of two 4000-byte tensors in two shards at ``path``."""
    return shards.save_sharded({"w": torch.ones(1000), "v": torch.zeros(1000)}, path, max_bytes=6000)


@pytest.mark.parametrize("sharded", [False, True])
def test_a_users_stem_best_file_survives_saving_and_clearing_leftovers(tmp_path, sharded):
    """Only STEM-TAG-NNNNN-of-NNNNN.safetensors files are shards: saving a checkpoint (either
    layout) and the trainer's leftover clearing leave checkpoint-best.safetensors alone."""
    mine = tmp_path / "checkpoint-best.safetensors"
    mine.write_bytes(b"the user's own file")
    path = tmp_path / shards.CHECKPOINT_FILE
    if sharded:
        _two_shards(path)
    else:
        shards.save_sharded({"w": torch.ones(10)}, path)
    clear_leftovers(tmp_path)
    assert mine.read_bytes() == b"the user's own file"
    assert shards.find(tmp_path) is not None


@pytest.mark.parametrize("newer", ["plain", "index"])
def test_the_newer_of_a_plain_file_and_an_index_wins(tmp_path, newer):
    """Both layouts of a run's checkpoint present (a write killed between its last two steps):
    find and load_sharded take the newer one, with a warning naming both (taco.shards.find's
    docstring; a file of another name is read as named: tests/test_shards_named_file.py)."""
    path = tmp_path / shards.CHECKPOINT_FILE
    other = tmp_path / "other"
    other.mkdir()
    shards.save_sharded({"w": torch.zeros(1000), "v": torch.zeros(1000)}, path, max_bytes=None)
    for f in _two_shards(other / shards.CHECKPOINT_FILE):  # ones, as an index and two shards
        shutil.copy(f, tmp_path / f.name)
    index = shards.index_path(path)
    old, new = 1_000_000_000 * 10**9, 1_000_000_100 * 10**9
    os.utime(path, ns=(new, new) if newer == "plain" else (old, old))
    os.utime(index, ns=(old, old) if newer == "plain" else (new, new))
    with pytest.warns(TacoWarning, match="holds both checkpoint.safetensors and its sharded index"):
        assert shards.find(path) == (path if newer == "plain" else index)
    with pytest.warns(TacoWarning):
        tensors, _ = shards.load_sharded(path)
    assert float(tensors["w"][0]) == (0.0 if newer == "plain" else 1.0)


def test_an_index_putting_a_tensor_in_the_wrong_shard_is_refused(tmp_path):
    path = tmp_path / "m.safetensors"
    _two_shards(path)
    index_file = shards.index_path(path)
    index = json.loads(index_file.read_text())
    weight_map = index["weight_map"]
    assert weight_map["w"] != weight_map["v"]
    weight_map["w"], weight_map["v"] = weight_map["v"], weight_map["w"]
    index_file.write_text(json.dumps(index))
    with pytest.raises(shards.ShardedFileError, match="the index's weight_map does not put there"):
        shards.load_sharded(path)


def test_an_index_listing_a_tensor_no_shard_holds_is_refused(tmp_path):
    path = tmp_path / "m.safetensors"
    _two_shards(path)
    index_file = shards.index_path(path)
    index = json.loads(index_file.read_text())
    index["weight_map"]["ghost"] = index["weight_map"]["w"]
    index_file.write_text(json.dumps(index))
    with pytest.raises(shards.ShardedFileError, match="lists 1 tensors no shard holds \\('ghost'"):
        shards.load_sharded(path)
