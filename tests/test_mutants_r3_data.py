"""Review M3: the central crop of a non-square image is its centre (the top offset comes from the
height, not the width), a random crop accepts a side exactly the crop's size, and Karpathy
captions are stripped of surrounding blanks and newlines."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from taco.data import center_crop_transform, karpathy_split, train_transform


def position_image(w: int, h: int) -> Image.Image:
    """Red = x, green = y, blue = 255: each pixel says where it is (blue is 0 in any padding)."""
    img = Image.new("RGB", (w, h))
    img.putdata([(x, y, 255) for y in range(h) for x in range(w)])
    return img


@pytest.mark.parametrize("w, h", [(40, 24), (24, 40), (30, 16)])
def test_the_center_crop_of_a_non_square_image_is_its_centre_inside_it(w, h):
    crop = 16
    t = center_crop_transform(crop)(position_image(w, h))
    assert tuple(t.shape) == (3, crop, crop)
    assert bool((t[2] == 1.0).all())  # every pixel from the image, none from outside it
    left, top = (w - crop) // 2, (h - crop) // 2
    assert round(float(t[0, 0, 0]) * 255) == left and round(float(t[1, 0, 0]) * 255) == top
    assert round(float(t[0, -1, -1]) * 255) == left + crop - 1
    assert round(float(t[1, -1, -1]) * 255) == top + crop - 1


@pytest.mark.parametrize("w, h", [(16, 20), (20, 16), (16, 16)])
def test_a_random_crop_takes_a_side_exactly_the_crop_size(w, h):
    torch.manual_seed(0)
    for _ in range(5):
        t = train_transform(16)(position_image(w, h))
        assert tuple(t.shape) == (3, 16, 16) and bool((t[2] == 1.0).all())


def test_karpathy_captions_are_stripped(tmp_path):
    split = tmp_path / "dataset_coco.json"
    split.write_text(json.dumps({"images": [
        {"filepath": "val2014", "filename": "x.jpg", "split": "restval",
         "sentences": [{"raw": "  A dog on a beach.\n"}, {"raw": " \n"}, {"raw": "\tTwo cats. "}]}]}))
    records = karpathy_split(split)
    assert records[0].captions == ("A dog on a beach.", "Two cats.")
