"""The cached features of the original images (``OUT/DATASET/originals.features``) belong to the
photos they were taken from: a photo replaced between two runs into one ``--output`` has its
features taken again, so FID is that of a fresh folder (it used to reuse the old photo's)."""

from __future__ import annotations

import json
import os
import types

import pytest
import torch
from PIL import Image

from taco.evaluation.classic import evaluate_codec, get_codec
from taco.evaluation.datasets import open_dataset
from taco.evaluation.measure import SetMetrics, image_digests
from taco.evaluation.results import dataset_dir


class FakeInception:
    """Per-channel means and variances as features: cheap, and they see a changed photo."""

    source = "fake (test)"

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        flat = images.flatten(2)  # (N, 3, HW)
        return torch.cat([flat.mean(-1), flat.var(-1)], dim=1).float()  # (N, 6)


def fid_of(folder, out, codec: str) -> float:
    dataset = open_dataset(str(folder))
    sets = SetMetrics(n_images=len(dataset), fid="full", extractor=FakeInception())
    path = evaluate_codec(get_codec(codec), dataset, dataset_dir(out, dataset), qualities=[50],
                          sets=sets, progress=False)
    return json.loads(path.read_text())["points"][0]["fid"]


@pytest.mark.filterwarnings("ignore:.*colours converted")
def test_replaced_photo_gets_fresh_original_features(tiny_folder, tmp_path):
    fid_of(tiny_folder, tmp_path / "shared", "jpeg")  # caches the originals' features
    first = sorted(p for p in tiny_folder.iterdir() if p.suffix != ".jsonl")[0]
    Image.effect_noise((64, 64), 80).convert("RGB").save(first)  # another photo, same name
    again = fid_of(tiny_folder, tmp_path / "shared", "webp")  # another codec, same --output
    fresh = fid_of(tiny_folder, tmp_path / "fresh", "webp")
    assert again == pytest.approx(fresh)


def test_a_photo_replaced_by_one_of_the_same_size_changes_its_digest(tmp_path):
    """The digest keys the cached features by size and modification time."""
    photo = tmp_path / "a.png"
    photo.write_bytes(b"A" * 100)
    os.utime(photo, ns=(1_000_000_000, 1_000_000_000))
    ds = types.SimpleNamespace(names=["a.png"], images=types.SimpleNamespace(root=tmp_path))
    before = image_digests(ds)
    photo.write_bytes(b"B" * 100)
    os.utime(photo, ns=(2_000_000_000, 2_000_000_000))
    assert image_digests(ds) != before
