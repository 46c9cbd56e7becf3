"""A researcher's own text encoder folder (``model_overrides.text_encoder = {name: minilm, path:
FOLDER}``): the folder is needed to encode captions, never to decode or describe a checkpoint,
and its width is never guessed. Nothing pins such a folder's weights: the model's fingerprint
does not cover them (only the packaged MiniLM's files are pinned)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

import taco
from taco.models.checkpoint import load_checkpoint, model_fingerprint, save_checkpoint
from taco.models.registry import describe_model
from taco.text import (
    MiniLMTextEncoder,
    TextEncoderUnavailable,
    model_text_encoder,
    text_encoder_dim,
)
from taco.train.caption_embeddings import CaptionTable, text_inputs
from taco.train.config import ConfigError, config_from_dict
from taco.train.model_setup import build_training_model

WIDTH = 24
CAPTIONS = ["a cat on a sofa", "a red rocket in the sky"]


@pytest.fixture(scope="module")
def bert(tmp_path_factory, make_bert):
    return make_bert(tmp_path_factory.mktemp("enc") / "bert", WIDTH)


@pytest.fixture
def movable(bert, tmp_path):
    """A copy of the BERT folder that the test may move away."""
    return shutil.copytree(bert, tmp_path / "mybert")


def test_a_checkpoint_loads_and_is_described_without_its_encoder_folder(movable, tmp_path):
    model = taco.create_model("taco-tiny", text_encoder={"name": "minilm", "path": str(movable)})
    assert model.text_dim == WIDTH
    file = tmp_path / "ck.safetensors"
    save_checkpoint(model, file)
    fingerprint = model_fingerprint(model)
    count = sum(p.numel() for p in model.parameters())
    movable.rename(tmp_path / "moved")
    loaded = load_checkpoint(file)  # was: text_proj.weight is [16, 24] in the file, [16, 384] ...
    assert loaded.text_dim == WIDTH and model_fingerprint(loaded) == fingerprint
    assert taco.load(file).text_dim == WIDTH
    assert describe_model(file)["parameters"] == count  # was the count of a 384-wide adapter


def test_an_explicit_folder_without_a_config_is_refused_not_guessed(tmp_path):
    for name in ("minilm", "clip"):
        with pytest.raises(TextEncoderUnavailable, match=f"{tmp_path / 'gone'}.* is no folder"):
            text_encoder_dim(name, path=tmp_path / "gone")
        with pytest.raises(TextEncoderUnavailable, match="has no config.json"):
            text_encoder_dim(name, path=tmp_path)
    with pytest.raises(TextEncoderUnavailable, match="gone"):
        taco.create_model("taco-tiny", text_encoder={"name": "minilm", "path": str(tmp_path / "gone")})
    assert text_encoder_dim("clip", path="openai/clip-vit-base-patch32") == 512  # a hub id


def test_a_folder_under_home_loads(bert, monkeypatch):
    monkeypatch.setenv("HOME", str(bert.parent))
    encoder = MiniLMTextEncoder("~/bert")
    assert encoder.encode(CAPTIONS[:1]).tokens.shape[-1] == WIDTH
    assert text_encoder_dim("minilm", path="~/bert") == WIDTH


def test_a_relative_encoder_path_is_made_absolute_when_the_config_is_read(bert, monkeypatch):
    monkeypatch.chdir(bert.parent)
    cfg = config_from_dict({"model": "taco-tiny",
                            "model_overrides": {"text_encoder": {"name": "minilm", "path": "bert"}}})
    assert cfg.model_overrides["text_encoder"] == {"name": "minilm", "path": str(bert.resolve())}
    monkeypatch.setenv("HOME", str(bert.parent))
    cfg = config_from_dict({"model": "taco-tiny",
                            "model_overrides": {"text_encoder": {"name": "minilm", "path": "~/bert"}}})
    assert cfg.model_overrides["text_encoder"]["path"] == str(bert.resolve())


def test_a_top_level_encoder_mapping_points_to_model_overrides():
    with pytest.raises(ConfigError, match="model_overrides: {text_encoder: {name: minilm, path"):
        config_from_dict({"model": "taco-tiny", "text_encoder": {"name": "minilm", "path": "/x"}})


def _table_config(folder, table):
    return config_from_dict({
        "model": "taco-tiny", "text_embeddings": str(table),
        "model_overrides": {"text_encoder": {"name": "minilm", "path": str(folder)}},
    })


def test_training_from_a_table_needs_no_encoder_folder(movable, tmp_path):
    spec = {"name": "minilm", "path": str(movable)}
    table = tmp_path / "caps.safetensors"
    CaptionTable.encode(CAPTIONS, MiniLMTextEncoder(movable), spec, "cpu").save(table)
    cfg = _table_config(movable, table)
    movable.rename(tmp_path / "moved")
    model = build_training_model(cfg)  # was: a 384-wide adapter, or the folder refused
    assert model.text_dim == WIDTH
    encoder, loaded = text_inputs(model, cfg, CAPTIONS, torch.device("cpu"))
    assert loaded is not None and encoder is not None and encoder.dim == WIDTH


def test_a_table_of_another_width_than_the_present_encoder_is_refused(movable, tmp_path):
    spec = {"name": "minilm", "path": str(movable)}
    table = tmp_path / "caps.safetensors"
    tokens = torch.zeros(len(CAPTIONS), 38, 16)
    CaptionTable(sorted(CAPTIONS), tokens, torch.ones(len(CAPTIONS), 38, dtype=torch.bool), spec).save(table)
    cfg = _table_config(movable, table)
    model = build_training_model(cfg)
    with pytest.raises(ConfigError, match=rf"tokens of \(38, 16\).*gives \(38, {WIDTH}\)"):
        text_inputs(model, cfg, CAPTIONS, torch.device("cpu"))


def test_the_tiny_bert_config_is_what_the_width_reads(bert):
    assert json.loads((bert / "config.json").read_text())["hidden_size"] == WIDTH


def test_the_docstring_does_not_say_the_fingerprint_catches_a_wrong_encoder():
    doc = " ".join((model_text_encoder.__doc__ or "").split())
    assert "fingerprint still catch" not in doc
    assert "not a text encoder folder's" in doc and "only the packaged MiniLM's files are pinned" in doc
    docs = Path(__file__).resolve().parents[2] / "docs" / "models.md"
    if docs.is_file():  # a source tree
        assert "Nothing pins such a folder's weights" in docs.read_text(encoding="utf-8")


def test_a_same_width_folder_with_other_weights_goes_unnoticed(tmp_path, make_bert):
    pytest.importorskip("transformers")
    folder = make_bert(tmp_path / "bert", WIDTH, seed=0)
    model = taco.create_model("taco-tiny", text_encoder={"name": "minilm", "path": str(folder)})
    fingerprint = model_fingerprint(model)
    before = model_text_encoder(model, shared=False).encode(["a cat on a sofa"]).tokens
    shutil.rmtree(folder)
    make_bert(folder, WIDTH, seed=1)  # changed in place: same width, other weights
    after = model_text_encoder(model, shared=False).encode(["a cat on a sofa"]).tokens
    assert model_fingerprint(model) == fingerprint  # nothing of the folder's weights is in it
    assert not bool((before == after).all())  # and the encoder read is the new one
