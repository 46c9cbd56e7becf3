"""A model's recorded text-encoder folder can be pointed elsewhere, and one that is gone or of
the wrong width is said before any image is coded, naming the folder (Review ML-A #1, #4)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image
from safetensors.torch import save_file

from taco.cli import main
from taco.errors import TacoError
from taco.models import create_model, load_checkpoint, save_checkpoint
from taco.text import CLIP_PATH_ENV, TextEncoderUnavailable, model_text_encoder
from taco.text.clip import TINY_CONFIG, seeded_clip_text
from taco.text.clip_vocab import clip_bpe_folder


def clip_folder(folder: Path, width: int = 32) -> Path:
    """A one-layer CLIP text model of ``width`` with CLIP's vocabulary, written to ``folder``."""
    config = dict(TINY_CONFIG, hidden_size=width, num_hidden_layers=1, model_type="clip_text_model")
    folder.mkdir(parents=True)
    for f in clip_bpe_folder().iterdir():
        shutil.copy(f, folder / f.name)
    (folder / "config.json").write_text(json.dumps(config))
    save_file(seeded_clip_text(config, 0).state_dict(), str(folder / "model.safetensors"))
    return folder


@pytest.fixture()
def moved(tmp_path, monkeypatch):
    """(a model recording the CLIP folder it was built with, that folder's new place)."""
    monkeypatch.setenv(CLIP_PATH_ENV, "unset")  # restored after the test: --clip-path sets it
    monkeypatch.delenv(CLIP_PATH_ENV)
    old = clip_folder(tmp_path / "clipA")
    model = create_model("taco-minilm-tiny", text_encoder={"name": "clip", "path": str(old)})
    new = old.rename(tmp_path / "clipA_moved")
    return model, new


def test_a_gone_recorded_clip_folder_is_named_with_the_override(moved):
    model, new = moved
    with pytest.raises(TextEncoderUnavailable) as e:
        model_text_encoder(model)
    said = str(e.value)
    assert repr(str(new.parent / "clipA")) in said and "recorded in the model's config" in said
    assert CLIP_PATH_ENV in said and "--clip-path" in said


def test_taco_clip_path_wins_over_the_recorded_folder(moved, monkeypatch):
    model, new = moved
    monkeypatch.setenv(CLIP_PATH_ENV, str(new))
    encoder = model_text_encoder(model)
    assert encoder is not None and encoder.source == str(new) and encoder.dim == 32


def test_a_gone_recorded_minilm_folder_says_what_to_do(tmp_path):
    model = create_model("taco-minilm-tiny")
    model.config.text_encoder = {"name": "minilm", "path": str(tmp_path / "bert")}
    with pytest.raises(TextEncoderUnavailable, match="recorded in the model's config.*put the folder back"):
        model_text_encoder(model)


def test_an_encoder_of_another_width_is_said_naming_its_folder(moved, monkeypatch, tmp_path):
    model, _ = moved
    wide = clip_folder(tmp_path / "clip16", width=16)
    monkeypatch.setenv(CLIP_PATH_ENV, str(wide))
    with pytest.raises(TacoError, match=f"{str(wide)!r}, from {CLIP_PATH_ENV}.*width 16.*takes 32") as caught:
        model_text_encoder(model)
    assert str(caught.value).endswith(  # what to do about it
        f"; point {CLIP_PATH_ENV} (taco compress: --clip-path DIR) at the CLIP it was trained with")


def test_compress_takes_clip_path_over_the_checkpoints_folder(moved, tmp_path, monkeypatch, capsys):
    model, new = moved
    checkpoint = tmp_path / "ck.safetensors"
    save_checkpoint(model, checkpoint)
    assert load_checkpoint(checkpoint).config.text_encoder["path"] == str(tmp_path / "clipA")
    image = tmp_path / "small.png"
    Image.new("RGB", (16, 16), (90, 120, 30)).save(image)
    common = ["compress", str(image), "--caption", "a house", "-m", str(checkpoint), "-f"]
    assert main([*common, "-o", str(tmp_path / "no.taco")]) == 2
    assert "recorded in the model's config" in capsys.readouterr().err
    assert not (tmp_path / "no.taco").exists()
    assert main([*common, "--clip-path", str(new), "-o", str(tmp_path / "a.taco")]) == 0
    assert (tmp_path / "a.taco").is_file()
