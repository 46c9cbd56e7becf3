"""Training's save builds the entropy-coder tables once: its state holds them, and the
checkpoint written after it takes them as they are (the same bytes as a save that rebuilds
them); every other save_checkpoint still rebuilds them. A run's save builds them once per save."""

from __future__ import annotations

import hashlib

import pytest
import torch

import taco
from taco.errors import TacoWarning
from taco.models import save_checkpoint
from taco.train import Trainer, load_config
from taco.train.checkpoints import CHECKPOINT_FILE, write_checkpoint


def _counting(monkeypatch, model) -> list[bool]:
    calls: list[bool] = []
    update = model.update

    def counted(*args, **kwargs):
        calls.append(True)
        return update(*args, **kwargs)

    monkeypatch.setattr(model, "update", counted)
    return calls


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_tables_built_before_are_written_as_they_are(tmp_path, monkeypatch):
    model = taco.create_model("elic-tiny")
    meta = {"trained_steps": 2}
    write_checkpoint(model, tmp_path / "rebuilt", meta)  # rebuilds the tables, as before
    model.update(force=True)
    calls = _counting(monkeypatch, model)
    write_checkpoint(model, tmp_path / "as-built", meta, update_tables=False)
    assert calls == []
    assert (_digest(tmp_path / "as-built" / CHECKPOINT_FILE)
            == _digest(tmp_path / "rebuilt" / CHECKPOINT_FILE))


def test_other_saves_still_rebuild_the_tables(tmp_path, monkeypatch):
    """They rebuild them for the file, on copies: the caller's model is not updated (its files
    decode with its own tables: tests/test_save_checkpoint_model_state.py)."""
    model = taco.create_model("elic-tiny")
    with torch.no_grad():
        model.latent_codec.entropy_bottleneck.quantiles.mul_(1.5)  # its tables are out of date now
    calls = _counting(monkeypatch, model)
    with pytest.warns(TacoWarning, match="out of date"):
        save_checkpoint(model, tmp_path / "m.safetensors")
    with pytest.warns(TacoWarning, match="out of date"):
        write_checkpoint(model, tmp_path, {})
    assert calls == []
    model.update(force=True)
    for saved in (taco.load(tmp_path / "m.safetensors"), taco.load(tmp_path / CHECKPOINT_FILE)):
        assert torch.equal(saved.latent_codec.entropy_bottleneck._quantized_cdf,
                           model.latent_codec.entropy_bottleneck._quantized_cdf)


def test_each_save_of_a_run_builds_the_tables_once(tmp_path, tiny, monkeypatch):
    trainer = Trainer(load_config(None, tiny(tmp_path / "run", model="elic-tiny", preset="elic", k_j=0,
                                             max_steps=1, ckpt_interval=1, **{"val.images": 0})))
    calls: list[bool] = []
    update = trainer.model.update

    def counted(*args, **kwargs):
        calls.append(True)
        return update(*args, **kwargs)

    monkeypatch.setattr(trainer.model, "update", counted)
    try:
        trainer.fit()
    finally:
        trainer.close()
    assert (tmp_path / "run" / CHECKPOINT_FILE).is_file()
    assert len(calls) == 1, len(calls)  # one save (the final one): one build, not two
