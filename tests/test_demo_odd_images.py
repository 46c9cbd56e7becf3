"""``taco demo --image`` on images the sample is not: 16/32-bit grey, wider than WebP holds.

A 16-bit grey reconstruction (I;16) went through ``convert("RGB")``, which clips 0..65535 to
255: PSNR 5.26 dB where it is 25.6 dB, and an all-white side-by-side. Each conversion warning
was given twice (the second time without the file name). A 16,400 px wide image crashed in
Pillow's WebP writer after the .taco was written.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

from taco.cli.demo import demo_lines
from taco.demo import psnr_lpips, run_demo
from taco.images import ImageConversionWarning, image_to_tensor, load_image, to_rgb


@pytest.mark.parametrize("mode", ["I;16", "I"])
def test_wide_grey_is_compared_and_shown_as_compress_converts_it(tmp_path, mode):
    ramp = np.linspace(0, 65535, 96 * 64).reshape(64, 96).astype(np.uint16 if mode == "I;16" else np.int32)
    src = tmp_path / "grey.png" if mode == "I;16" else tmp_path / "grey.tif"
    Image.fromarray(ramp).save(src)
    assert Image.open(src).mode == mode
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = run_demo("elic-tiny", str(src), "", out_dir=tmp_path / "out")
    said = [str(w.message) for w in caught if issubclass(w.category, ImageConversionWarning)]
    assert len(said) == 1 and said[0].startswith(str(src)), said

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rgb = to_rgb(load_image(src))[0]
        recon = to_rgb(load_image(r["files"][1]))[0]
    assert load_image(r["files"][1]).mode == "I;16"
    expected = psnr_lpips(image_to_tensor(rgb), image_to_tensor(recon))["psnr_db"]
    assert r["psnr_db"] == pytest.approx(expected, abs=1e-6)
    side = Image.open(r["files"][2])
    assert np.array_equal(np.asarray(side.crop((96 + 8, 0, 2 * 96 + 8, 64))), np.asarray(recon))
    assert np.array_equal(np.asarray(side.crop((0, 0, 96, 64))), np.asarray(rgb))


def test_webp_is_not_applicable_over_its_side_limit(tmp_path):
    src = tmp_path / "wide.png"
    Image.new("RGB", (16400, 16), (120, 30, 200)).save(src)
    r = run_demo("elic-tiny", str(src), "", out_dir=tmp_path / "out")
    assert r["classic"]["WebP"] == {"not_applicable": "over 16,383 px a side"}
    assert "JPEG" in r["classic"] and r["classic"]["JPEG"]["bytes"] > 0
    assert "WebP       n/a (over 16,383 px a side)" in demo_lines(r)
