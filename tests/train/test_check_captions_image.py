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
from taco.train.datasets import build_train_dataset, build_val_dataset, records_of

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
        check_captions(["A cat.", LONG], build_train_dataset(cfg), build_val_dataset(cfg))
    with pytest.raises(ConfigError, match="^training/validation data: caption 'x x "):  # no config: no image
        check_captions([LONG])


def test_a_run_and_embed_captions_name_the_image(tiny, tmp_path, folders):
    """What taco train (text_inputs, given the data's captions and datasets) and --embed-captions say."""
    good, bad = folders
    cfg = load_config(None, tiny(tmp_path / "run", **{"data.root": good, "val.root": bad, "val.crop": 64}))
    shown = f"^validation data: {bad / 'cof.png'}: caption 'x x "
    data = build_train_dataset(cfg), build_val_dataset(cfg)
    with pytest.raises(ConfigError, match=shown):
        text_inputs(create_model("taco-tiny", seed=0), cfg, ["A cat.", "A cup.", "A cat.", LONG], torch.device("cpu"),
                    *data)
    with pytest.raises(ConfigError, match=shown):
        embed_captions(cfg, tmp_path / "emb.safetensors")
    assert not (tmp_path / "emb.safetensors").exists()


def test_the_image_is_found_in_the_datasets_given_not_built_again(tiny, tmp_path, folders, monkeypatch):
    """Review U4: the refusal rebuilt both datasets (folder scans, size checks) to find the image;
    it now searches the records of those the run built (records_of: a Subset's own records)."""
    good, bad = folders
    cfg = load_config(None, tiny(tmp_path / "run", **{"data.root": good, "val.root": bad, "val.crop": 64}))
    training, validation = build_train_dataset(cfg), build_val_dataset(cfg)
    images, records = records_of(validation)
    assert images.root == bad and [r.file for r in records] == ["a.png", "cof.png"]
    assert records_of(training)[1] == training.records
    from taco.train import datasets

    def built_again(*args, **kwargs):
        raise AssertionError("a dataset built again")

    monkeypatch.setattr(datasets, "build_train_dataset", built_again)
    monkeypatch.setattr(datasets, "build_val_dataset", built_again)
    with pytest.raises(ConfigError, match=f"^validation data: {bad / 'cof.png'}: caption 'x x "):
        check_captions(["A cat.", LONG], training, validation)
