"""A sharded checkpoint read while another process saves it again (Review CC-F #1): the save
removes the previous shards right after it publishes its new index, so a reader that read the old
index meets a missing shard. The reader then reads the new index and loads again; a shard missing
while the index stays as it was is still an error. The save happens inside the read, through
taco.shards.check_header_size (called before each shard is read), so no timing is involved."""

from __future__ import annotations

import pytest
import torch

from taco import shards


def _tensors(value: float, n: int = 4) -> dict[str, torch.Tensor]:
    return {f"t{i}": torch.full((300 + int(value),), value) for i in range(n)}


def _save(path, value: float) -> None:
    shards.save_sharded(_tensors(value), path, {"v": str(value)}, max_bytes=3000)


def _saving_while_reading(monkeypatch, path, values):
    """Make every call of check_header_size on a shard first save ``path`` again with the next
    of ``values`` (while there are any); returns the list of values saved."""
    real = shards.check_header_size
    saved: list[float] = []

    def check(file, index=None):
        if index is not None and len(saved) < len(values):
            saved.append(values[len(saved)])
            _save(path, saved[-1])
        return real(file, index)

    monkeypatch.setattr(shards, "check_header_size", check)
    return saved


@pytest.mark.parametrize("read", ["load_sharded", "tensor_shapes"])
def test_a_save_during_a_read_gives_the_new_checkpoint(tmp_path, monkeypatch, read):
    path = tmp_path / "ck.safetensors"
    _save(path, 1.0)
    assert len(shards.files(path)) > 2  # an index and several shards
    _saving_while_reading(monkeypatch, path, [2.0])
    if read == "load_sharded":
        tensors, metadata = shards.load_sharded(path)
        assert metadata == {"v": "2.0"}
        assert all(torch.equal(t, _tensors(2.0)[k]) for k, t in tensors.items())
        assert set(tensors) == set(_tensors(2.0))
    else:
        shapes = shards.tensor_shapes(path)
        assert shapes == {k: ((302,), "F32") for k in _tensors(2.0)}


def test_a_missing_shard_of_an_unchanged_index_is_still_an_error(tmp_path):
    path = tmp_path / "ck.safetensors"
    _save(path, 1.0)
    shard = shards.files(path)[2]
    shard.unlink()
    for read in (shards.load_sharded, shards.tensor_shapes):
        with pytest.raises(shards.ShardedFileError, match=f"shard {shard.name} cannot be read"):
            read(path)


def test_a_checkpoint_saved_again_on_every_read_gives_up_after_a_few_tries(tmp_path, monkeypatch):
    path = tmp_path / "ck.safetensors"
    _save(path, 1.0)
    saved = _saving_while_reading(monkeypatch, path, [float(v) for v in range(2, 100)])
    with pytest.raises(shards.ShardedFileError, match="cannot be read"):
        shards.load_sharded(path)
    assert 2 <= len(saved) <= 10
