"""The hint a str in the model's place gets (``taco.compress(image, caption, "elic-tiny")``)
reads the text as every model argument is read (a name taco knows before a file or folder of that
name: ``classify_model_spec``), so the call it suggests is one that works (Review ST F3)."""

from __future__ import annotations

import pytest

import taco
from taco.samples import SAMPLES_DIR

PNG = (SAMPLES_DIR / "skimage-coffee.png").read_bytes()


def refusal(model: object) -> str:
    with pytest.raises(TypeError, match="model must be a loaded taco model") as caught:
        taco.compress(PNG, None, model)
    return str(caught.value)


def test_an_architecture_name_beside_a_folder_of_that_name_gets_create_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elic-tiny").mkdir()  # a folder of the name, holding no checkpoint
    said = refusal("elic-tiny")
    assert "model = taco.create_model('elic-tiny')" in said
    assert "taco.load" not in said


def test_a_folder_or_file_that_holds_no_model_gets_no_hint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run").mkdir()  # taco.load refuses a folder without checkpoint.safetensors
    for text in ("run", "./run", ""):
        said = refusal(text)
        assert "taco.load" not in said and "create_model" not in said


def test_a_checkpoint_folder_gets_the_load_hint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    taco.save_checkpoint(taco.create_model("elic-tiny"), tmp_path / "run" / "checkpoint.safetensors")
    assert "load it first: model = taco.load('run')" in refusal("run")
    assert "load it first: model = taco.load('run/checkpoint.safetensors')" in refusal("run/checkpoint.safetensors")


def test_a_file_that_is_no_checkpoint_gets_no_load_hint(tmp_path, monkeypatch):
    # an output path in the model's place (taco.decompress(data, "cat.png")): taco.load would refuse it
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cat.png").write_bytes(PNG)
    (tmp_path / "empty.safetensors").write_bytes(b"")
    for text in ("cat.png", "empty.safetensors"):
        said = refusal(text)
        assert "taco.load" not in said and "create_model" not in said, said
