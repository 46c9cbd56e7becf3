"""The demo's comparison with the classic codecs: each at the quality nearest the model's size."""

from __future__ import annotations

from PIL import Image

from taco.demo import classic_at_same_size, sample_dir
from taco.images import image_to_tensor


def test_each_classic_codec_is_measured_at_the_nearest_size_it_makes():
    with Image.open(sample_dir() / "skimage-coffee.png") as photo:
        rgb = photo.convert("RGB").crop((0, 0, 160, 96))
    x = image_to_tensor(rgb)
    low, high = classic_at_same_size(rgb, x, 0.5), classic_at_same_size(rgb, x, 2.0)
    assert {"JPEG", "WebP"} <= set(low)
    for label in low:
        assert low[label]["bytes"] < high[label]["bytes"]
        assert low[label]["psnr_db"] < high[label]["psnr_db"]
        assert low[label]["bpp"] == 8 * low[label]["bytes"] / (160 * 96)
    # JPEG can make a file near 2 bpp at this size: it lands within a quality step of it
    assert abs(high["JPEG"]["bpp"] - 2.0) < 0.25
