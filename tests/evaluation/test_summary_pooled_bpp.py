"""summarize_rows' ``bpp_pooled``: all the bits over all the pixels, 8 * sum(bytes) / sum(h * w),
which weights each image by its size, unlike ``bpp`` (the mean of the per-image bpp). Review A:
nothing pinned it (a mutant dividing by the mean pixel count passed)."""

from __future__ import annotations

import pytest

from taco.evaluation.measure import summarize_rows


def _row(nbytes: int, height: int, width: int) -> dict[str, str]:
    return {"bpp": str(8 * nbytes / (height * width)), "bytes": str(nbytes), "height": str(height),
            "width": str(width), "psnr": "30"}


def test_pooled_bpp_is_all_bits_over_all_pixels():
    rows = [_row(1000, 100, 160), _row(2000, 400, 160)]
    point = summarize_rows(rows)
    assert point["bpp_pooled"] == pytest.approx(8 * 3000 / (100 * 160 + 400 * 160))  # 0.3
    assert point["bpp"] == pytest.approx((0.5 + 0.25) / 2)


def test_pooled_bpp_of_three_images_and_of_one():
    rows = [_row(500, 64, 64), _row(1500, 128, 96), _row(4000, 256, 256)]
    pooled = 8 * (500 + 1500 + 4000) / (64 * 64 + 128 * 96 + 256 * 256)
    assert summarize_rows(rows)["bpp_pooled"] == pytest.approx(pooled)
    assert summarize_rows(rows[1:2])["bpp_pooled"] == pytest.approx(8 * 1500 / (128 * 96))
