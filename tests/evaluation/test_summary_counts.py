"""``taco evaluate``'s printed summary: a metric measured on fewer images than the set says so."""

from __future__ import annotations

import json

from taco.evaluation.cli import print_summary


def test_a_mean_over_fewer_images_than_the_set_shows_its_count(tmp_path, capsys):
    """MS-SSIM is not measured under 161 px a side: its mean over 1 of 24 images was printed as
    the set's, with nothing to tell."""
    point = {"images": 24, "bpp": 0.4, "psnr": 24.0, "ms_ssim": 0.91, "ms_ssim_images": 1,
             "lpips": 0.23}
    result = {"format": "taco-eval", "version": 1, "label": "m", "kind": "classic", "dataset": {"name": "photos"}, "points": [point]}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(result))
    print_summary([path])
    assert capsys.readouterr().out.splitlines()[0] == (
        "m on photos (24 images): bpp 0.4000, psnr 24.0000, ms_ssim 0.9100 (n=1), lpips 0.2300")
