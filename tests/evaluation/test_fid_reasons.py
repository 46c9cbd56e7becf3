"""FID over 256 px patches switched off for the right reason, before Inception is built:
with ``--crop 128`` the reason said "no image is 256x256 px or larger" of two 512 x 384 photos
(the crop is why), and a set giving exactly one patch built Inception, then recorded "1 feature
rows, fewer than the 2 FID needs" with nothing said on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from taco.cli import main
from taco.evaluation import evaluate as evaluate_module, measure
from taco.evaluation.measure import SetMetrics, hific_patch_count, hific_patches


@pytest.fixture()
def no_inception(monkeypatch):  # noqa: ANN001, ANN201
    """Building Inception fails the test."""
    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("Inception built")

    monkeypatch.setattr(measure, "InceptionFeatures", refuse)


class FakeInception:
    source = "fake (test)"

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        return images.flatten(2).mean(-1).float()


@pytest.mark.parametrize("size", [(255, 300), (256, 256), (384, 384), (512, 384), (768, 576), (300, 700)])
def test_patch_count_is_what_hific_patches_gives(size: tuple[int, int]) -> None:
    w, h = size
    assert hific_patch_count(w, h) == len(hific_patches(torch.zeros(1, 3, h, w)))


def test_crop_is_named_as_the_reason(no_inception) -> None:
    sets = SetMetrics(n_images=2, fid="patches", image_sizes=[(128, 128), (128, 128)], crop=128)
    assert sets.fid_mode == "off"
    assert sets.fid_reason.startswith("the --crop 128 px crops are smaller than 256 px"), sets.fid_reason
    # without a crop, the images themselves are too small
    assert SetMetrics(n_images=1, fid="patches", image_sizes=[(100, 100)]).fid_reason.startswith(
        "no image is 256x256 px or larger")


@pytest.mark.parametrize("sizes, crop", [([(256, 256)], None), ([(100, 90), (300, 256)], None),
                                         ([(256, 256)], 256)])
def test_one_patch_is_off_before_inception(no_inception, sizes, crop) -> None:  # noqa: ANN001
    sets = SetMetrics(n_images=len(sizes), fid="patches", image_sizes=sizes, crop=crop)
    assert sets.fid_mode == "off" and sets.extractor is None
    assert sets.fid_reason.startswith("the images give 1 patch of 256x256 px in all, fewer than the 2"), \
        sets.fid_reason
    assert ("--fid full" in sets.fid_reason) == (len(sizes) >= 2)
    assert sets.describe(0)["fid"] == {"computed": False, "reason": sets.fid_reason}


def test_two_patches_keep_fid_and_reading_stops(no_inception) -> None:
    def sizes():  # noqa: ANN202 - read only until 2 patches
        yield (256, 256)
        yield (64, 64)
        yield (256, 300)
        raise AssertionError("read past the second patch")

    sets = SetMetrics(n_images=3, fid="patches", image_sizes=sizes(), extractor=FakeInception())
    assert sets.fid_mode == "patches" and sets.fid_reason == ""
    # a 384 x 384 image alone gives 2 (the grid's and the shifted grid's)
    assert SetMetrics(n_images=1, fid="patches", image_sizes=[(384, 384)],
                      extractor=FakeInception()).fid_mode == "patches"


def _evaluate(tmp_path, capsys, sizes, *extra):  # noqa: ANN001, ANN002, ANN202
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, (w, h) in enumerate(sizes):
        Image.new("RGB", (w, h), (10 * i, 80, 160)).save(folder / f"p{i}.png")
    out = tmp_path / "out"
    assert main(["evaluate", str(folder), "--classic", "jpeg", "--qualities", "jpeg=50", "-o", str(out),
                 "--fid", "patches", "--cmmd-clip", "off", "--no-plot", *extra]) == 0
    result = json.loads(next(out.rglob("jpeg.json")).read_text())
    return capsys.readouterr().err, result["set_metrics"]["fid"]


def test_taco_evaluate_names_the_crop(tmp_path, capsys, no_inception) -> None:  # noqa: ANN001
    err, fid = _evaluate(tmp_path, capsys, [(512, 384), (384, 512)], "--crop", "128")
    assert err.count("FID not computed: the --crop 128 px crops are smaller than 256 px") == 1, err
    assert fid["computed"] is False and fid["reason"].startswith("the --crop 128 px crops")


def test_taco_evaluate_says_one_patch(tmp_path, capsys, no_inception) -> None:  # noqa: ANN001
    err, fid = _evaluate(tmp_path, capsys, [(256, 256)])
    assert err.count("FID not computed: the images give 1 patch of 256x256 px in all") == 1, err
    assert fid["computed"] is False and fid["reason"].startswith("the images give 1 patch")


def test_full_fid_of_one_image_is_off_before_inception(no_inception) -> None:  # noqa: ANN001
    """--fid full with one image (review DC2): Inception was built, then FID dropped silently."""
    sets = SetMetrics(n_images=1, fid="full")
    assert sets.fid_mode == "off" and sets.extractor is None
    assert sets.fid_reason.startswith("the set has 1 image, fewer than the 2 FID over whole images needs")
    assert SetMetrics(n_images=2, fid="full", extractor=FakeInception()).fid_mode == "full"


def test_taco_evaluate_says_one_image_for_full(tmp_path, capsys, no_inception) -> None:  # noqa: ANN001
    err, fid = _evaluate(tmp_path, capsys, [(64, 48)], "--fid", "full")
    assert err.count("FID not computed: the set has 1 image, fewer than the 2") == 1, err
    assert fid["computed"] is False and fid["reason"].startswith("the set has 1 image")


@pytest.mark.parametrize("min_images", [0, 1])
def test_auto_whole_image_fid_on_one_image_is_off_before_inception(no_inception, min_images: int) -> None:
    """--fid auto with --fid-min-images 0 or 1 chose whole-image FID for a one-image set, built
    Inception, then dropped FID with nothing on stderr (session 37's left-alone item)."""
    sets = SetMetrics(n_images=1, fid="auto", fid_min_images=min_images)
    assert sets.fid_mode == "off" and sets.extractor is None
    assert sets.fid_reason.startswith("the set has 1 image, fewer than the 2"), sets.fid_reason
    assert SetMetrics(n_images=2, fid="auto", fid_min_images=min_images,
                      extractor=FakeInception()).fid_mode == "full"


def test_auto_counts_at_least_two_images(tmp_path, capsys, no_inception) -> None:  # noqa: ANN001
    """The CLI's count for --fid auto stops at max(--fid-min-images, 2), so a one-image folder
    with --fid-min-images 1 gets the note on stderr and the reason in the JSON."""
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (64, 48), (90, 120, 150)).save(folder / "a.png")
    (folder / "captions.jsonl").write_text('{"image": "a.png", "captions": ["a blue wall"]}\n')
    out = tmp_path / "out"
    rc = main(["evaluate", str(folder), "--classic", "jpeg", "--qualities", "jpeg=50",
               "--fid-min-images", "1", "--cmmd-clip", "off", "--no-plot", "-o", str(out)])
    assert rc == 0
    assert "FID not computed: the set has 1 image" in capsys.readouterr().err
    assert "the set has 1 image" in "".join(p.read_text() for p in out.rglob("*.json"))


def test_fid_auto_with_min_images_one_counts_a_two_image_set_whole(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """--fid auto --fid-min-images 1 --limit 1 on two images: the set's size is counted past the
    limit up to 2 (FID over whole images needs 2), so auto decides on a set of 2 (whole images),
    not 'the set has 1 image' from a count that stopped at 1."""
    seen = []

    def recording(**kw):  # noqa: ANN003, ANN202
        probe = SetMetrics(**kw, extractor=FakeInception())  # no Inception built
        seen.append((kw["n_images"], probe.fid_mode, probe.fid_reason))
        return SetMetrics(**{**kw, "fid": "off"})

    monkeypatch.setattr(evaluate_module, "SetMetrics", recording)
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(2):
        Image.new("RGB", (64, 48), (40 * i, 120, 150)).save(folder / f"{i}.png")
    rc = main(["evaluate", str(folder), "--classic", "jpeg", "--qualities", "jpeg=50", "--fid-min-images", "1",
               "--limit", "1", "--cmmd-clip", "off", "--no-plot", "--quiet", "-o", str(tmp_path / "out")])
    assert rc == 0
    assert seen and seen[0][1] == "full", seen
    assert seen[0][0] >= 2
