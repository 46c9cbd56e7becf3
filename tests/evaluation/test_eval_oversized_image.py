"""An image over 32,768 px a side (the ``.taco`` format's limit) stopped the whole taco evaluate
run when the model came to it ("a 40000x1 image cannot be coded", without its name), leaving a
header-only CSV: the other images were not coded. Such an image is now left out of the dataset
when it opens, for every codec alike (the curves compare the same images), with one warning
naming it and its size, and the run goes on."""

from __future__ import annotations

import json
import shutil
import warnings

import pytest
from PIL import Image

from taco.bitstream import MAX_SIDE
from taco.evaluation.datasets import open_dataset
from taco.evaluation.evaluate import without_oversized
from taco.samples import SAMPLES_DIR


def test_an_oversized_image_is_skipped_by_every_codec(eval_main, tmp_path, capsys):
    data = tmp_path / "photos"
    data.mkdir()
    Image.new("RGB", (40000, 1), (120, 30, 200)).save(data / "wide.png")  # a few hundred bytes
    shutil.copy(SAMPLES_DIR / "skimage-coffee.png", data / "coffee.png")
    out = tmp_path / "out"
    code = eval_main(["evaluate", "-m", "taco-tiny", "--fid", "off", "--cmmd-clip", "off", "--no-plot",
                      "--caption-mode", "empty", "--classic", "jpeg", "--qualities", "jpeg=50", "-o", str(out),
                      str(data)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"{data}: skipping 1 image over 32,768 px a side, which a .taco file cannot hold (wide.png: 40000x1)" in err
    results = sorted((out / "photos").glob("*.json"))
    assert len(results) == 2
    for path in results:
        result = json.loads(path.read_text())
        assert result["complete"] and result["dataset"]["images"] == 1, path
        rows = path.with_suffix(".csv").read_text().splitlines()
        assert len(rows) == 2 and "coffee.png" in rows[1], rows  # the header and the photo


def test_an_image_exactly_max_side_wide_is_kept(tmp_path):
    """A .taco file holds sides up to 32,768 px: such an image is evaluated, one pixel more is
    skipped."""
    Image.new("L", (MAX_SIDE, 1)).save(tmp_path / "wide.png")
    Image.new("L", (8, 8)).save(tmp_path / "small.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = without_oversized(open_dataset(str(tmp_path)))
    assert sorted(r.file for r in kept.images.records) == ["small.png", "wide.png"]
    Image.new("L", (MAX_SIDE + 1, 1)).save(tmp_path / "wide.png")
    with pytest.warns(Warning, match=r"skipping 1 image over 32,768 px a side.*wide\.png: 32769x1"):
        kept = without_oversized(open_dataset(str(tmp_path)))
    assert [r.file for r in kept.images.records] == ["small.png"]
