"""taco.bitstream.bits_per_pixel: the one bpp formula (8 × bytes / pixels)."""

from __future__ import annotations

import numpy as np

from taco.bitstream import TacoHeader, bits_per_pixel, pack, unpack


def test_bits_per_pixel_is_eight_times_bytes_over_pixels():
    assert bits_per_pixel(3, 4) == 6.0
    assert bits_per_pixel(1000, 768 * 512) == 8 * 1000 / (768 * 512)


def test_bits_per_pixel_pools_numpy_sums_as_written():
    nbytes, pixels = np.array([1234.0, 567.0]), np.array([512.0 * 768, 300.0 * 200])
    assert bits_per_pixel(nbytes.sum(), pixels.sum()) == 8 * nbytes.sum() / pixels.sum()


def test_a_taco_file_bpp_counts_its_header():
    data = pack(TacoHeader("elic-tiny", b"\0" * 8, 30, 70, "RGB"), b"\x01" * 50)
    assert unpack(data).bpp == bits_per_pixel(len(data), 30 * 70)
