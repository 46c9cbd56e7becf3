"""Validation on photos the model trains on was silent (``data.root=mix val.root=mix``), the
validation set's warnings carried the training set's label (``CaptionedFolder('mix')`` twice,
with two counts), and ``val.images=8`` with 2 photos there validated on 2 without a word."""

from __future__ import annotations

import json
import warnings

import pytest
from PIL import Image

from taco.data import SkippedImageWarning
from taco.errors import TacoWarning
from taco.train.config import load_config
from taco.train.datasets import build_val_dataset, trained_on


def _photos(root, n, prefix="p"):
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("RGB", (80, 80), (i * 40, 90, 160)).save(root / f"{prefix}{i}.png")
        (root / f"{prefix}{i}.txt").write_text("a photo\n")
    return root


def _cfg(train, val, *more):
    return load_config(None, ["model=elic-tiny", "k_j=0", "crop=64", f"data.root={train}",
                              f"val.root={val}", "val.crop=64", "val.images=2", *more])


def _messages(said):
    return [str(w.message) for w in said]


def test_val_root_same_as_data_root_is_said(tmp_path):
    mix = _photos(tmp_path / "mix", 3)
    with pytest.warns(TacoWarning) as said:
        ds = build_val_dataset(_cfg(mix, mix))
    assert ds is not None and len(ds) == 2
    assert _messages(said) == [
        f"validation '{mix}': val.root is data.root: 2 of the 2 images it validates on are also "
        f"trained on ({mix / 'p0.png'}, {mix / 'p1.png'}), so validation does not show how the model "
        "does on photos it has not seen; give val.root a folder of other photos (or leave them out "
        "of training with data.exclude)"]


def test_same_folder_by_another_name_and_exclude(tmp_path):
    mix = _photos(tmp_path / "mix", 3)
    (tmp_path / "sub").mkdir()
    other_name = tmp_path / "sub" / ".." / "mix"
    with pytest.warns(TacoWarning, match="val.root is data.root: 2 of the 2"):
        build_val_dataset(_cfg(mix, other_name))
    with warnings.catch_warnings():  # the validation photos are excluded from training: nothing said
        warnings.simplefilter("error")
        build_val_dataset(_cfg(mix, mix, "data.exclude=[p0.png, p1.png]"))


def test_val_folder_inside_data_root_is_said_only_when_trained_on(tmp_path):
    train = _photos(tmp_path / "train", 2, "t")
    val = _photos(train / "held", 2)
    with warnings.catch_warnings():  # a subfolder: training does not read it
        warnings.simplefilter("error", TacoWarning)
        build_val_dataset(_cfg(train, val))
    with open(train / "captions.jsonl", "w") as f:  # now it does, by name
        f.write(json.dumps({"image": "held/p1.png", "captions": ["x"]}) + "\n")
    assert trained_on(_cfg(train, val), val, ["p0.png", "p1.png"]) == [val / "p1.png"]
    with pytest.warns(TacoWarning, match=r"held': 1 of the 2 images it validates on is also trained on"):
        build_val_dataset(_cfg(train, val))


def test_separate_folders_say_nothing(tmp_path):
    train = _photos(tmp_path / "train", 2)
    val = _photos(tmp_path / "val", 2)  # the same names, other files
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = build_val_dataset(_cfg(train, val))
    assert ds is not None and len(ds) == 2


def test_fewer_photos_than_val_images_is_said(tmp_path):
    train = _photos(tmp_path / "train", 2)
    val = _photos(tmp_path / "val", 2)
    with pytest.warns(TacoWarning) as said:
        ds = build_val_dataset(_cfg(train, val, "val.images=8"))
    assert ds is not None and len(ds) == 2
    assert _messages(said) == [
        f"validation '{val}': val.images=8, but 2 images are there to validate on; validating on 2"]


def test_validation_warnings_say_validation(tmp_path):
    train = _photos(tmp_path / "train", 2)
    val = _photos(tmp_path / "val", 2)
    (val / "p1.txt").unlink()  # uncaptioned among captioned ones: skipped, with a warning
    with pytest.warns(SkippedImageWarning) as said:
        build_val_dataset(_cfg(train, val, "val.images=1"))
    assert _messages(said) == [f"validation '{val}': skipping 1 without captions (p1.png)"]
