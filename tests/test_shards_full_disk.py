"""taco.shards.save_sharded on a full disk: a sharded save that fails at a later shard or at its
index (ENOSPC; any exception) removes the shards it had finished before it raises, so the space
the user is told to free is not held by a half set (~16 MB a shard) until the next ``taco train``
start; the previous checkpoint, its index and its shards, stays as it was and loads."""

from __future__ import annotations

import errno

import pytest
import torch

from taco import shards


def _tensors(seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {f"layer{i}.weight": torch.randn(64, 64, generator=g) for i in range(6)}  # 3 shards of 40 kB


def _failing_at(monkeypatch, call: int, exc: BaseException | None = None, *, after_write: bool = False) -> list:
    """``taco.shards.write_bytes_atomic``'s ``call``-th call (from 1) raises ``exc`` (ENOSPC naming
    its file): before writing, or with ``after_write`` once its file is published."""
    real = shards.write_bytes_atomic
    calls: list = []

    def write(path, data, **kwargs):
        calls.append(path)
        if len(calls) == call:
            if after_write:
                real(path, data, **kwargs)
            raise exc if exc is not None else OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, data, **kwargs)

    monkeypatch.setattr(shards, "write_bytes_atomic", write)
    return calls


def _files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("call", [2, 3, 4], ids=["second shard", "third shard", "index"])
def test_a_failed_save_removes_its_new_shards_and_keeps_the_old_set(monkeypatch, tmp_path, call):
    path = tmp_path / "train_state.safetensors"
    old = shards.save_sharded(_tensors(0), path, {"step": "2"}, max_bytes=40_000)
    assert len(old) == 4
    before = _files(tmp_path)
    calls = _failing_at(monkeypatch, call)
    with pytest.raises(OSError) as e:
        shards.save_sharded(_tensors(1), path, {"step": "4"}, max_bytes=40_000)
    assert e.value.errno == errno.ENOSPC and len(calls) == call
    assert _files(tmp_path) == before  # no new shard left, the old set untouched
    tensors, meta = shards.load_sharded(path)
    assert meta == {"step": "2"} and all(torch.equal(tensors[k], v) for k, v in _tensors(0).items())


def test_a_first_save_that_fails_leaves_no_shard(monkeypatch, tmp_path):
    _failing_at(monkeypatch, 3)
    with pytest.raises(OSError, match="No space left"):
        shards.save_sharded(_tensors(0), tmp_path / "checkpoint.safetensors", max_bytes=40_000)
    assert list(tmp_path.iterdir()) == [] and shards.find(tmp_path / "checkpoint.safetensors") is None


def test_an_interrupt_between_shards_removes_them_too(monkeypatch, tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    shards.save_sharded(_tensors(0), path, max_bytes=40_000)
    before = _files(tmp_path)
    _failing_at(monkeypatch, 2, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        shards.save_sharded(_tensors(1), path, max_bytes=40_000)
    assert _files(tmp_path) == before


def test_an_index_published_before_its_write_failed_keeps_its_shards(monkeypatch, tmp_path):
    """The index renamed into place, then an error: the new checkpoint is the one the index
    names, so its shards stay (and the save's error is still raised)."""
    path = tmp_path / "checkpoint.safetensors"
    shards.save_sharded(_tensors(0), path, max_bytes=40_000)
    _failing_at(monkeypatch, 4, after_write=True)
    with pytest.raises(OSError):
        shards.save_sharded(_tensors(1), path, max_bytes=40_000)
    tensors, _ = shards.load_sharded(path)
    assert all(torch.equal(tensors[k], v) for k, v in _tensors(1).items())
