"""Validation follows data.small_images with val.crop, as training does with crop: photos under
val.crop are dropped with one warning (not silently upscaled and measured blurred), or upscaled
with data.small_images=upscale; with none left, the error names val.crop."""

import json
import warnings

import pytest
from PIL import Image

from taco.data import EmptyDatasetError, SkippedImageWarning
from taco.train.config import load_config
from taco.train.datasets import build_val_dataset
from taco.train.trainer import training_data


def _photos(root, sizes):
    root.mkdir()
    with open(root / "captions.jsonl", "w") as f:
        for i, size in enumerate(sizes):
            Image.new("RGB", size, (i * 40, 90, 160)).save(root / f"p{i}.png")
            f.write(json.dumps({"image": f"p{i}.png", "captions": ["a photo"]}) + "\n")
    return root


def _cfg(tmp_path, val, *more):
    return load_config(None, ["model=elic-tiny", "k_j=0", "crop=64", f"data.root={val}",
                              f"val.root={val}", "val.crop=128", *more])


def test_val_photos_under_val_crop_are_dropped_with_one_warning(tmp_path):
    val = _photos(tmp_path / "val", [(96, 96), (104, 96), (140, 130), (200, 160)])
    train = _photos(tmp_path / "train", [(96, 96)])
    with pytest.warns(SkippedImageWarning) as said:
        ds = build_val_dataset(_cfg(tmp_path, val, f"data.root={train}", "val.images=2"))
    assert ds is not None and len(ds) == 2
    assert [str(w.message) for w in said] == [
        f"validation '{val}': skipping 2 under 128 px on the shorter side (p0.png, p1.png)"]
    assert all(s.image.shape == (3, 128, 128) for s in (ds[0], ds[1]))


def test_upscale_keeps_every_val_photo_without_a_warning(tmp_path):
    val = _photos(tmp_path / "val", [(96, 96), (140, 130)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkippedImageWarning)
        ds = build_val_dataset(_cfg(tmp_path, val, "data.small_images=upscale"))
    assert ds is not None and len(ds) == 2


def test_no_val_photo_left_names_val_crop(tmp_path):
    val = _photos(tmp_path / "val", [(96, 96), (104, 96)])
    train = _photos(tmp_path / "train", [(96, 96)])
    cfg = _cfg(tmp_path, val, f"data.root={train}")
    with pytest.raises(EmptyDatasetError) as e:
        training_data(cfg, validation=True)
    said = str(e.value)
    assert said.startswith(f"val.root: no images to use under '{val}': 2 under 128 px"), said
    # the smaller val.crop first: data.small_images upscales the training photos too
    assert said.endswith("validate on them with a smaller val.crop: val.crop=64 keeps those of 64 px and "
                         "more, or --set data.small_images=upscale (each upscaled to cover the crop; it "
                         "upscales the training photos under crop too)"), said
