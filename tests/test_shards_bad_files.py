"""A file that is not safetensors is one ShardedFileError from every reader of taco.shards
(``FILE: not a safetensors file (why)``), and each reader above them says it as its own error.
load_sharded and read_metadata let safetensors' own error through (``SafetensorError: header too
large``), and four callers each turned it into the same words."""

from __future__ import annotations

import pickle

import pytest
import torch

from taco import shards
from taco.errors import TacoError
from taco.models.config import CheckpointError
from taco.models.header import checkpoint_metadata, checkpoint_shapes
from taco.train.caption_embeddings import CaptionTable
from taco.train.config import ConfigError
from taco.train.state import TrainStateError, load_train_state, load_train_state_meta

READERS = [shards.read_metadata, shards.load_sharded, shards.tensor_shapes,
           lambda p: shards.read_format_metadata(p, "k", "f", 1, "thing")]


def _bad_files(tmp_path):  # noqa: ANN001, ANN202
    good = tmp_path / "good.safetensors"
    shards.save_sharded({"a": torch.zeros(4, 4)}, good, {"k": "v"})
    raw = good.read_bytes()
    out = {}
    for name, data in {"empty": b"", "random": b"\x07" * 300, "truncated": raw[: len(raw) // 2],
                       "one byte short": raw[:-1], "huge declared header": (1 << 60).to_bytes(8, "little") + raw[8:]
                       }.items():  # fmt: skip
        path = tmp_path / f"{name.replace(' ', '_')}.safetensors"
        path.write_bytes(data)
        out[name] = path
    return out


def test_every_reader_says_not_a_safetensors_file(tmp_path):
    for name, path in _bad_files(tmp_path).items():
        for read in READERS:
            with pytest.raises(shards.ShardedFileError) as err:
                read(path)
            assert str(err.value).startswith(f"{path}: not a safetensors file ("), (name, str(err.value))


def test_the_error_is_a_taco_error_that_pickles():
    error = shards.ShardedFileError("x.safetensors: not a safetensors file (header too large)")
    assert isinstance(error, TacoError) and isinstance(error, ValueError)
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


def test_the_readers_above_say_it_as_their_own_error(tmp_path):
    for path in _bad_files(tmp_path).values():
        for read, error in ((checkpoint_metadata, CheckpointError), (checkpoint_shapes, CheckpointError),
                            (load_train_state_meta, TrainStateError), (load_train_state, TrainStateError),
                            (CaptionTable.load, ConfigError)):  # fmt: skip
            with pytest.raises(error, match="not a safetensors file"):
                read(path)


def test_running_out_of_memory_is_not_called_a_bad_file(tmp_path, monkeypatch):
    import safetensors.torch

    path = tmp_path / "x.safetensors"
    shards.save_sharded({"a": torch.zeros(4)}, path)

    def fail(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise MemoryError

    for reader in ("load_file", "load"):  # mapped, or read whole (files of the usual sizes)
        monkeypatch.setattr(safetensors.torch, reader, fail)
    with pytest.raises(MemoryError):
        shards.load_sharded(path)


def test_a_device_that_cannot_be_used_is_not_called_a_bad_file(tmp_path):
    """CaptionTable.load read straight onto the device: 'not a safetensors file (device bogus is
    invalid)'."""
    path = tmp_path / "x.safetensors"
    shards.save_sharded({"a": torch.zeros(4)}, path)
    with pytest.raises(RuntimeError) as err:
        shards.load_sharded(path, device="bogus")
    assert not isinstance(err.value, TacoError) and "not a safetensors file" not in str(err.value)
