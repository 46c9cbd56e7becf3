"""taco.shards: a checkpoint's shards are told from those of another whose name begins alike
(``model-best`` beside ``model``) and from names with glob characters (Review R2 F2)."""

from __future__ import annotations

import os
import time

import pytest
import torch

from taco import shards


def _tensors(seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {f"layer{i}.weight": torch.randn(64, 64, generator=g) for i in range(6)}  # 16 KiB each


def _same(path, seed: int) -> bool:
    tensors, _ = shards.load_sharded(path)
    return all(torch.equal(tensors[k], v) for k, v in _tensors(seed).items())


@pytest.mark.parametrize("stem", ["model", "m[1]", "m*?"])
def test_saving_or_clearing_one_keeps_the_other_loadable(tmp_path, stem):
    best, model = tmp_path / f"{stem}-best.safetensors", tmp_path / f"{stem}.safetensors"
    best_files = shards.save_sharded(_tensors(1), best, max_bytes=40_000)
    shards.save_sharded(_tensors(2), model, max_bytes=40_000)
    shards.save_sharded(_tensors(3), model, max_bytes=40_000)  # a rewrite removes its old shards
    assert shards.files(best) == best_files and _same(best, 1) and _same(model, 3)
    shards.remove_stale(model)
    assert _same(best, 1)
    shards.save_sharded(_tensors(4), model, max_bytes=None)  # one plain file: its shards go
    assert _same(best, 1) and _same(model, 4)
    assert sorted(tmp_path.iterdir()) == sorted([*best_files, model])
    shards.save_sharded(_tensors(5), best, max_bytes=40_000)  # and the other way round
    shards.remove_stale(best)
    assert _same(model, 4) and _same(best, 5)
    assert len(list(tmp_path.iterdir())) == 1 + 1 + 3  # model, best's index and 3 shards


def test_remove_stale_leaves_the_temporaries_of_another_checkpoint(tmp_path):
    model = tmp_path / "model.safetensors"
    shards.save_sharded(_tensors(1), model, max_bytes=40_000)
    own = tmp_path / ".model-deadbeef-00001-of-00003.safetensors.tmp-123"
    other = tmp_path / ".model-best-deadbeef-00001-of-00003.safetensors.tmp-123"
    old = time.time() - 3600
    for t in (own, other):
        t.write_bytes(b"half")
        os.utime(t, (old, old))
    shards.remove_stale(model)
    assert not own.exists() and other.exists()
