"""A SkippedImageWarning about the caller's photos (too small for the crop) names the caller's
line, as taco.compress's warnings do (review H): open_dataset's named
taco/evaluation/datasets.py, train()'s taco/data.py."""

from __future__ import annotations

import warnings

import numpy as np
from PIL import Image

from taco.captions_file import CaptionRecord
from taco.data import CaptionedImages, SkippedImageWarning
from taco.evaluation import open_dataset
from taco.train import DataConfig, TrainConfig, train


def _photos(folder):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i, side in enumerate((64, 64, 32)):
        Image.fromarray((rng.random((side, side, 3)) * 255).astype(np.uint8)).save(folder / f"p{i}.png")
    return folder


def _skipped(caught):
    found = [w for w in caught if issubclass(w.category, SkippedImageWarning)]
    assert found, [str(w.message) for w in caught]
    return [(w.filename, w.lineno) for w in found]


def _line(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = fn()
    return _skipped(caught), line


def test_open_dataset_blames_the_caller(tmp_path):
    photos = _photos(tmp_path / "photos")

    def call():
        open_dataset(photos, crop=64)
        return call.__code__.co_firstlineno + 1

    where, line = _line(call)
    assert where == [(__file__, line)]


def test_captioned_images_blames_the_caller(tmp_path):
    photos = _photos(tmp_path / "photos")

    def call():
        CaptionedImages(photos, [CaptionRecord(f"p{i}.png", ("",)) for i in range(3)], min_side=64)
        return call.__code__.co_firstlineno + 1

    where, line = _line(call)
    assert where == [(__file__, line)]


def test_train_blames_the_caller(tmp_path):
    photos = _photos(tmp_path / "photos")
    cfg = TrainConfig(preset="elic", model="elic-tiny", k_j=0.0, crop=64, batch_size=2, workers=0,
                      max_steps=1, progress=False, out_dir=str(tmp_path / "run"),
                      data=DataConfig(root=str(photos)))

    def call():
        train(cfg)
        return call.__code__.co_firstlineno + 1

    where, line = _line(call)
    assert where == [(__file__, line)]
