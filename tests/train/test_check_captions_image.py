"""A caption the text encoders refuse (over the cap, a lone surrogate) stops ``taco train`` naming
the image whose caption it is and whether it is training or validation data, as ``taco
compress`` names it (review B: the error said only ``training/validation data: caption ...``).
A lone surrogate is the same refusal, but a folder's captions file refuses it first."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from taco.models import create_model
from taco.text.base import MAX_CAPTION_CHARS
from taco.train.caption_embeddings import check_captions, embed_captions, text_inputs
from taco.train.config import ConfigError, load_config

LONG = "x " * (MAX_CAPTION_CHARS // 2 + 1000)


def photos(folder, captions: dict[str, str]):
    folder.mkdir()
    for name, caption in captions.items():
        Image.new("RGB", (72, 72), "red").save(folder / name)
        with (folder / "captions.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps({"image": name, "captions": [caption]}) + "\n")
    return folder


@pytest.fixture
def folders(tmp_path):
    good = photos(tmp_path / "good", {"a.png": "A cat.", "b.png": "A cup."})
    bad = photos(tmp_path / "bad", {"a.png": "A cat.", "cof.png": LONG})
    return good, bad


@pytest.mark.parametrize("where", ["training", "validation"])
def test_the_refusal_names_the_image(tiny, tmp_path, folders, where):
    good, bad = folders
    roots = (bad, good) if where == "training" else (good, bad)
    cfg = load_config(None, tiny(tmp_path / "run", **{"data.root": roots[0], "val.root": roots[1], "val.crop": 64}))
    with pytest.raises(ConfigError, match=f"^{where} data: {bad / 'cof.png'}: caption 'x x "):
        check_captions(["A cat.", LONG], cfg)
    with pytest.raises(ConfigError, match="^training/validation data: caption 'x x "):  # no config: no image
        check_captions([LONG])


def test_a_run_and_embed_captions_name_the_image(tiny, tmp_path, folders):
    """What taco train (text_inputs, given the data's captions) and --embed-captions say."""
    good, bad = folders
    cfg = load_config(None, tiny(tmp_path / "run", **{"data.root": good, "val.root": bad, "val.crop": 64}))
    shown = f"^validation data: {bad / 'cof.png'}: caption 'x x "
    with pytest.raises(ConfigError, match=shown):
        text_inputs(create_model("taco-tiny", seed=0), cfg, ["A cat.", "A cup.", "A cat.", LONG], torch.device("cpu"))
    with pytest.raises(ConfigError, match=shown):
        embed_captions(cfg, tmp_path / "emb.safetensors")
    assert not (tmp_path / "emb.safetensors").exists()
