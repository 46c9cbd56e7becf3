"""Mutation round 7b: behaviour of taco.evaluation.measure, .datasets and .classic that no test
pinned (each test names the mutant it kills)."""

from __future__ import annotations

import math
import os
import types

import pytest
import torch
from PIL import Image

from taco.evaluation.classic import ClassicCodec, code_at_bpp, interpolate_rd
from taco.evaluation.datasets import CLIC_TEST_IMAGES, DatasetError, not_the_paper_set, open_dataset
from taco.evaluation.measure import hific_patches, image_digests


@pytest.mark.parametrize(("h", "w", "grid"), [(256, 256, 1), (256, 768, 3), (384, 384, 2)])
def test_an_image_exactly_a_patch_high_gives_its_patches(h, w, grid):
    """S05: a side of exactly 256 px holds one patch (the grid's last row/column counts);
    384 px also holds the shifted one at 128."""
    assert hific_patches(torch.rand(1, 3, h, w)).shape[0] == grid


def test_the_shifted_grid_starts_half_a_patch_in():
    """S04: the second grid of patches is offset by size // 2 = 128 px in both directions."""
    x = torch.arange(512 * 512, dtype=torch.float32).reshape(1, 1, 512, 512).expand(1, 3, 512, 512)
    p = hific_patches(x)
    assert p.shape[0] == 4 + 1
    assert float(p[-1, 0, 0, 0]) == 128 * 512 + 128


def test_a_photo_replaced_by_one_of_the_same_size_changes_its_digest(tmp_path):
    """S06: the digest keys the cached features by size and modification time."""
    photo = tmp_path / "a.png"
    photo.write_bytes(b"A" * 100)
    os.utime(photo, ns=(1_000_000_000, 1_000_000_000))
    ds = types.SimpleNamespace(names=["a.png"], images=types.SimpleNamespace(root=tmp_path))
    before = image_digests(ds)
    photo.write_bytes(b"B" * 100)
    os.utime(photo, ns=(2_000_000_000, 2_000_000_000))
    assert image_digests(ds) != before


def test_full_size_of_a_limited_dataset_counts_every_image(tiny_folder):
    """D06: the images after the limit are all counted, the first of them included."""
    limited = open_dataset(str(tiny_folder), limit=2)
    assert len(limited) == 2
    assert limited.full_size() == len(open_dataset(str(tiny_folder))) == 4


def test_a_limit_of_zero_is_refused(tiny_folder):
    """D03: limit=0 is not read as 'no limit'."""
    with pytest.raises(DatasetError):
        open_dataset(str(tiny_folder), limit=0)


def test_a_clic_folder_of_more_images_is_not_the_paper_set():
    """D01: more than CLIC_TEST_IMAGES images is not the paper's CLIC set either."""
    assert not_the_paper_set("clic", [f"img{i}.png" for i in range(CLIC_TEST_IMAGES + 2)]) is not None
    assert not_the_paper_set("clic", [f"img{i}.png" for i in range(CLIC_TEST_IMAGES)]) is None


def _codec(sizes: dict[int, int]) -> ClassicCodec:
    return ClassicCodec("fake", "Fake", (5,), (min(sizes), max(sizes)), +1, lambda im, q: (b"x" * sizes[q], im))


def test_the_matched_rate_search_looks_two_qualities_past_its_bracket():
    """C03: a codec whose size wobbles: the closest file (q10, 81 B for an 80 B target) lies
    two qualities beyond the bisection's bracket."""
    sizes = {1: 10, 2: 20, 3: 30, 4: 40, 5: 50, 6: 60, 7: 70, 8: 90, 9: 95, 10: 81, 11: 110, 12: 120}
    q, data, _ = code_at_bpp(_codec(sizes), Image.new("RGB", (8, 8)), 80 / 8)
    assert (q, len(data)) == (10, 81)


def test_of_two_equally_close_qualities_the_lower_is_taken():
    """C04: q7 (70 B) and q8 (80 B) are as close to 75 B: the tie goes to q7."""
    q, data, _ = code_at_bpp(_codec({q: 10 * q for q in range(1, 11)}), Image.new("RGB", (8, 8)), 75 / 8)
    assert (q, len(data)) == (7, 70)


def test_a_zero_rate_point_is_not_part_of_the_curve():
    """C07: a point at bpp 0 is ignored, so a target below the curve's lowest rate is NaN."""
    pts = [{"bpp": 0.0, "psnr": 20.0}, {"bpp": 0.5, "psnr": 30.0}, {"bpp": 1.0, "psnr": 35.0}]
    assert math.isnan(interpolate_rd(pts, 0.3, "psnr"))
    assert interpolate_rd(pts, 0.75, "psnr") == pytest.approx(32.5, abs=1.0)
