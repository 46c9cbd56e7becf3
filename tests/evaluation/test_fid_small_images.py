"""FID over 256 px patches on a set whose images are all under 256 px on a side: no image gives a
patch. The JSON said ``fid: {"computed": true, "samples": 0, ...}`` while every point's FID was
null, nothing was printed, and Inception was built (0.5 s) for nothing. Now FID is off with the
reason, before Inception is built, and ``taco evaluate`` says it on stderr (review SU, session 37)."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from taco.cli import main
from taco.evaluation import measure
from taco.evaluation.datasets import open_dataset
from taco.evaluation.measure import SetMetrics, hific_patches, image_sizes


class FakeInception:
    source = "fake (test)"

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        return images.flatten(2).mean(-1).float()


@pytest.fixture()
def no_inception(monkeypatch):  # noqa: ANN001, ANN201
    """Building Inception fails the test."""
    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("Inception built")

    monkeypatch.setattr(measure, "InceptionFeatures", refuse)


def _folder(tmp_path, sizes):  # noqa: ANN001, ANN202
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, (w, h) in enumerate(sizes):
        Image.new("RGB", (w, h), (10 * i, 80, 160)).save(folder / f"p{i}.png")
    return folder


@pytest.mark.parametrize("fid", ["auto", "patches"])
def test_no_patch_no_fid_and_no_inception(no_inception, fid: str) -> None:
    sets = SetMetrics(n_images=2, fid=fid, image_sizes=[(100, 400), (400, 255)])
    assert sets.fid_mode == "off" and sets.fid_feature is None and sets.extractor is None
    assert sets.fid_reason.startswith("no image is 256x256 px or larger")
    assert sets.describe(0)["fid"] == {"computed": False, "reason": sets.fid_reason}


def test_one_image_with_patches_keeps_fid(no_inception) -> None:
    def sizes():  # noqa: ANN202 - read only until the 2 patches FID needs (R7-D: 1 is off)
        yield (64, 64)
        yield (384, 384)
        raise AssertionError("read past the image that gives 2 patches")

    sets = SetMetrics(n_images=2, fid="patches", image_sizes=sizes(), extractor=FakeInception())
    assert sets.fid_mode == "patches" and sets.fid_reason == ""
    # whole images are measured whatever their size
    assert SetMetrics(n_images=2, fid="full", image_sizes=[(8, 8)], extractor=FakeInception()).fid_mode == "full"


def test_no_samples_is_not_computed() -> None:
    fid = SetMetrics(n_images=2, fid="patches", extractor=FakeInception()).describe(0)["fid"]
    assert fid["computed"] is False and fid["reason"] == "0 feature rows, fewer than the 2 FID needs"


def test_image_sizes_of_a_dataset(tmp_path) -> None:  # noqa: ANN001
    folder = _folder(tmp_path, [(64, 48), (300, 200)])
    assert list(image_sizes(open_dataset(str(folder)))) == [(64, 48), (300, 200)]
    assert list(image_sizes(open_dataset(str(folder), crop=32))) == [(32, 32), (32, 32)]


def test_taco_evaluate_says_it(tmp_path, capsys, no_inception) -> None:  # noqa: ANN001
    folder = _folder(tmp_path, [(64, 48), (48, 64)])
    out = tmp_path / "out"
    assert main([ "evaluate", str(folder), "--classic", "jpeg", "--qualities", "jpeg=50", "-o", str(out),
                 "--cmmd-clip", "off", "--no-plot"]) == 0
    err = capsys.readouterr().err
    assert err.count("FID not computed: no image is 256x256 px or larger") == 1, err
    result = json.loads(next(out.rglob("jpeg.json")).read_text())
    assert result["set_metrics"]["fid"]["computed"] is False
    assert all("fid" not in p for p in result["points"])


@pytest.mark.parametrize(("h", "w", "grid"), [(256, 256, 1), (256, 768, 3), (384, 384, 2)])
def test_an_image_exactly_a_patch_high_gives_its_patches(h, w, grid):
    """A side of exactly 256 px holds one patch (the grid's last row/column counts);
    384 px also holds the shifted one at 128."""
    assert hific_patches(torch.rand(1, 3, h, w)).shape[0] == grid


def test_the_shifted_grid_starts_half_a_patch_in():
    """The second grid of patches is offset by size // 2 = 128 px in both directions."""
    x = torch.arange(512 * 512, dtype=torch.float32).reshape(1, 1, 512, 512).expand(1, 3, 512, 512)
    p = hific_patches(x)
    assert p.shape[0] == 4 + 1
    assert float(p[-1, 0, 0, 0]) == 128 * 512 + 128
