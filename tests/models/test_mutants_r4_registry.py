"""taco.models.registry (review M4's surviving mutants R2, R3, R5, R6): load_builtin refuses a
built-in file whose SHA-256 is not the recorded one; describe_model counts every shard of a
sharded checkpoint, keeps training.train_data (an object) and reads an early file's "lmbda"."""

from __future__ import annotations

import shutil

import pytest

import taco.models.registry as registry
from taco.models import CheckpointError, create_model, load_builtin, save_checkpoint
from taco.models.registry import PRETRAINED, describe_model, pretrained_file, trained_lambda

BUILTIN = "elic-small-q3"


@pytest.fixture(scope="module")
def tiny_checkpoint_model():
    model = create_model("elic-tiny", seed=0)
    model.update(force=True)
    return model


def test_load_builtin_refuses_a_corrupt_installed_file(tmp_path, monkeypatch):
    corrupt = tmp_path / PRETRAINED[BUILTIN].file
    shutil.copyfile(pretrained_file(BUILTIN), corrupt)
    data = bytearray(corrupt.read_bytes())
    data[-100] ^= 0x01  # one bit of a weight: the file still loads, its digest differs
    corrupt.write_bytes(bytes(data))
    monkeypatch.setattr(registry, "pretrained_file", lambda name: corrupt)
    with pytest.raises(CheckpointError, match="SHA-256 mismatch") as caught:
        load_builtin(BUILTIN)
    assert PRETRAINED[BUILTIN].sha256 in str(caught.value)
    assert "corrupt" in str(caught.value)


def test_describe_model_of_a_sharded_checkpoint_counts_every_shard(tmp_path, tiny_checkpoint_model):
    index = save_checkpoint(tiny_checkpoint_model, tmp_path / "m.safetensors", max_shard_bytes=1 << 20,
                            metadata={"train_data": {"root": "photos", "images": 10}})
    files = list(tmp_path.iterdir())
    assert len(files) > 2  # the index and at least two shards
    info = describe_model(index)
    assert info["file_bytes"] == sum(f.stat().st_size for f in files)
    assert info["training"]["train_data"] == {"root": "photos", "images": 10}


def test_describe_model_keeps_train_data_and_drops_it_of_another_type(tmp_path, tiny_checkpoint_model):
    kept = save_checkpoint(tiny_checkpoint_model, tmp_path / "kept.safetensors",
                           metadata={"train_data": {"root": "photos", "images": 10}, "device": "cpu"})
    assert describe_model(kept)["training"] == {"train_data": {"root": "photos", "images": 10},
                                                "device": "cpu"}
    dropped = save_checkpoint(tiny_checkpoint_model, tmp_path / "dropped.safetensors",
                              metadata={"train_data": "photos", "device": "cpu"})
    assert describe_model(dropped)["training"] == {"device": "cpu"}


def test_an_early_checkpoints_lmbda_is_read(tmp_path, tiny_checkpoint_model):
    assert trained_lambda({"lmbda": 0.013}) == 0.013
    assert trained_lambda({"lambda": 0.004, "lmbda": 0.013}) == 0.004
    path = save_checkpoint(tiny_checkpoint_model, tmp_path / "early.safetensors", metadata={"lmbda": 0.013})
    assert describe_model(path)["lmbda"] == 0.013
