"""A caption the text encoder refuses stops ``taco evaluate`` before any coding naming the image
whose caption it is, as ``taco compress`` names it (review B: it said only ``caption 'x x x ...'
has 12,000 characters``); a ``fixed:TEXT`` caption is no image's, so none is named."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from taco.errors import CaptionTooLongError
from taco.evaluation.datasets import open_dataset
from taco.evaluation.evaluate import draw_captions, load_model
from taco.text.base import MAX_CAPTION_CHARS

LONG = "x " * (MAX_CAPTION_CHARS // 2 + 1000)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "f4"
    root.mkdir()
    with (root / "captions.jsonl").open("w", encoding="utf-8") as f:
        for name, caption in {"cat.png": "A tabby cat.", "cof.png": LONG, "dog.png": "A dog."}.items():
            Image.new("RGB", (32, 32), "red").save(root / name)
            f.write(json.dumps({"image": name, "captions": [caption]}) + "\n")
    return root


@pytest.mark.parametrize("mode", ["true", "shuffled", "best-lpips"])
def test_the_refusal_names_the_image_whose_caption_it_is(folder, mode):
    model, info = load_model("taco-tiny")
    with pytest.raises(CaptionTooLongError, match=f"^{folder / 'cof.png'}: caption 'x x x"):
        draw_captions(model, info, open_dataset(str(folder)), mode)


def test_a_fixed_caption_names_no_image(folder):
    model, info = load_model("taco-tiny")
    with pytest.raises(CaptionTooLongError, match="^caption 'y y y"):
        draw_captions(model, info, open_dataset(str(folder)), "fixed:" + LONG.replace("x", "y"))
