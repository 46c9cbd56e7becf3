"""The shipped sample photos are found in one place (taco.samples), and demo, bench and the
``samples`` dataset all take them from there."""

from __future__ import annotations

import pytest

from taco import demo
from taco.samples import SAMPLES_DIR, sample_caption, sample_names
from taco.suffixes import IMAGE_SUFFIXES


def test_the_samples_are_the_captioned_photos_of_their_folder():
    photos = sorted(p.name for p in SAMPLES_DIR.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    assert sorted(sample_names()) == photos
    assert len(photos) == 4 and "skimage-chelsea.png" in photos
    assert all(sample_caption(name) for name in photos)
    with pytest.raises(KeyError):
        sample_caption("no-such-sample.png")


def test_demo_bench_and_evaluate_take_the_same_samples():
    from taco.bench.inputs import SAMPLE_IMAGES
    from taco.evaluation.datasets import open_dataset

    assert demo.sample_dir() == SAMPLES_DIR
    assert not hasattr(demo, "sample_caption")  # one way to a sample's caption: taco.samples
    assert SAMPLE_IMAGES == sample_names()
    ds = open_dataset("samples")
    assert ds.root == SAMPLES_DIR
    assert sorted(ds.names) == sorted(sample_names())
