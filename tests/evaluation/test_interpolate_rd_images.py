"""interpolate_rd reads a metric at the rate of the images that metric's mean is over, and leaves
out points at zero rate."""

import math

import pytest

from taco.evaluation import interpolate_rd


def test_a_metric_is_read_at_its_own_images_rate():
    # MS-SSIM's mean leaves out an image under 161 px: its rate is bpp_ms_ssim, not bpp
    points = [
        {"bpp": 0.2, "ms_ssim": 0.90, "bpp_ms_ssim": 0.3, "psnr": 25.0},
        {"bpp": 0.4, "ms_ssim": 0.95, "bpp_ms_ssim": 0.6, "psnr": 30.0},
    ]
    assert math.isnan(interpolate_rd(points, 0.25, "ms_ssim"))  # below that curve's rates
    assert interpolate_rd(points, 0.3, "ms_ssim") == 0.90
    assert interpolate_rd(points, 0.2, "psnr") == 25.0  # every image counted: bpp


def test_older_results_without_the_field_use_bpp():
    points = [{"bpp": 0.2, "lpips": 0.4}, {"bpp": 0.8, "lpips": 0.2}]
    assert abs(interpolate_rd(points, 0.4, "lpips") - 0.3) < 1e-12  # halfway in log(bpp)


def test_interpolate_rd_leaves_out_zero_rate_points():
    pts = [{"bpp": 0.0, "psnr": 20.0}, {"bpp": 0.5, "psnr": 30.0}, {"bpp": 1.0, "psnr": 35.0}]
    assert math.isnan(interpolate_rd(pts, 0.25, "psnr"))  # below the curve's lowest positive rate
    assert interpolate_rd(pts, 0.5, "psnr") == pytest.approx(30.0)


def test_a_zero_rate_point_is_not_part_of_the_curve():
    """A point at bpp 0 is ignored, so a target below the curve's lowest rate is NaN."""
    pts = [{"bpp": 0.0, "psnr": 20.0}, {"bpp": 0.5, "psnr": 30.0}, {"bpp": 1.0, "psnr": 35.0}]
    assert math.isnan(interpolate_rd(pts, 0.3, "psnr"))
    assert interpolate_rd(pts, 0.75, "psnr") == pytest.approx(32.5, abs=1.0)
