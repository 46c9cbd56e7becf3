"""The one ``--model`` resolver: built-in names, checkpoints (plain and sharded), architectures."""

from __future__ import annotations

import pytest

from taco.models import CheckpointError, create_model, model_fingerprint, save_checkpoint
from taco.resolve import DEFAULT_MODEL, resolve_model


def test_default_is_the_trained_builtin():
    r = resolve_model()
    assert (r.spec, r.trained, r.checkpoint, r.note) == (DEFAULT_MODEL, True, None, None)
    assert r.model.model_id == DEFAULT_MODEL and not r.model.training


def test_architecture_is_its_untrained_seed_0_model():
    r = resolve_model("elic-tiny")
    assert not r.trained and "no trained weights" in r.note
    assert model_fingerprint(r.model) == model_fingerprint(create_model("elic-tiny", seed=0))


def test_checkpoints_plain_and_sharded(tmp_path, tiny_elic):
    plain = save_checkpoint(tiny_elic, tmp_path / "plain.safetensors")
    r = resolve_model(str(plain))
    assert r.trained and r.checkpoint == plain
    name = tmp_path / "sharded.safetensors"
    save_checkpoint(tiny_elic, name, max_shard_bytes=1_000_000)
    assert not name.exists()  # shards and an index only
    r = resolve_model(str(name))
    assert r.trained and r.checkpoint == tmp_path / "sharded.safetensors.index.json"
    assert model_fingerprint(r.model) == model_fingerprint(tiny_elic)


def test_unknown_name_is_one_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="neither a checkpoint file nor a built-in model"):
        resolve_model("no-such-model")
    with pytest.raises(CheckpointError, match="neither"):
        resolve_model(str(tmp_path / "missing.safetensors"))
