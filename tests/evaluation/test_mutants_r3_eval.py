"""Review M3: a dataset's digest changes when a photo is replaced by another of the same name,
taco plot keeps a cropped run and an " [LPIPS official]" run apart from the plain one, the classic
codecs' quality search looks two qualities past the bracket, describe() says which way quality
goes, interpolate_rd leaves out zero-rate points, and --anchor matching two curves only ignoring
case asks for the exact label."""

from __future__ import annotations

import math

import pytest
from PIL import Image

from taco.evaluation.classic import ClassicCodec, code_at_bpp, get_codec, interpolate_rd
from taco.evaluation.datasets import open_dataset
from taco.evaluation.plot import Curve, collect_curves, find_anchor


def test_replacing_a_photo_by_another_of_the_same_name_changes_the_digest(tmp_path):
    Image.new("RGB", (64, 64), "red").save(tmp_path / "a.png")
    Image.new("RGB", (64, 64), "blue").save(tmp_path / "b.png")
    before = open_dataset(tmp_path)
    content, image_content = before.content, before.image_content
    Image.effect_noise((64, 64), 60).convert("RGB").save(tmp_path / "a.png")  # other bytes, same name
    after = open_dataset(tmp_path)
    assert after.content != content and after.image_content != image_content


def classic_result(psnr: float, *, crop: str = "none", lpips_input: str | None = None) -> dict:
    r = {"kind": "classic", "label": "JPEG", "codec": "jpeg", "run": {"codec": "jpeg"},
         "dataset": {"name": "val", "crop": crop}, "points": [{"setting": 50, "bpp": 1.0, "psnr": psnr}]}
    return r if lpips_input is None else {**r, "lpips_input": lpips_input}


def test_a_run_on_center_crops_is_a_dataset_of_its_own():
    out = collect_curves([classic_result(30.0), classic_result(28.0, crop="center 256x256")])
    assert sorted(out) == ["val", "val (crop center 256x256)"]
    assert out["val"][0].points[0]["psnr"] == 30.0
    assert out["val (crop center 256x256)"][0].points[0]["psnr"] == 28.0


def test_a_run_with_official_lpips_input_is_a_dataset_of_its_own():
    out = collect_curves([classic_result(30.0, lpips_input="official"),
                          classic_result(28.0, lpips_input="rgb01")])
    assert sorted(out) == ["val", "val [LPIPS official]"]
    assert out["val [LPIPS official]"][0].points[0]["psnr"] == 30.0
    assert out["val"][0].points[0]["psnr"] == 28.0


def test_the_quality_search_looks_two_qualities_past_the_bracket():
    """Bytes 10 q + 10, except q15 with 138: the target 137.5 bytes brackets q12..q13, and the
    closest file (q15) is two qualities above it."""
    sizes = {q: 10 * q + 10 for q in range(21)} | {15: 138}
    codec = ClassicCodec("fake", "Fake", (5, 10), (0, 20), +1, lambda img, q: (bytes(sizes[q]), img))
    q, data, _ = code_at_bpp(codec, Image.new("RGB", (8, 8)), 137.5 * 8 / 64)
    assert (q, len(data)) == (15, 138)


@pytest.mark.parametrize("name", ["jpeg", "webp"])
def test_describe_says_a_higher_quality_is_more_bits(name):
    assert get_codec(name).describe()["quality_direction"] == "higher = more bits"


def test_describe_says_a_lower_setting_is_more_bits_for_a_downward_codec():
    codec = ClassicCodec("fake", "Fake", (5, 10), (0, 20), -1, lambda img, q: (b"", img))
    assert codec.describe()["quality_direction"] == "lower = more bits"


def test_interpolate_rd_leaves_out_zero_rate_points():
    pts = [{"bpp": 0.0, "psnr": 20.0}, {"bpp": 0.5, "psnr": 30.0}, {"bpp": 1.0, "psnr": 35.0}]
    assert math.isnan(interpolate_rd(pts, 0.25, "psnr"))  # below the curve's lowest positive rate
    assert interpolate_rd(pts, 0.5, "psnr") == pytest.approx(30.0)


def test_an_anchor_matching_two_curves_ignoring_case_asks_for_the_exact_label():
    curves = [Curve("Ours", "learned", ""), Curve("OURS", "learned", ""), Curve("JPEG", "classic", "jpeg")]
    with pytest.raises(ValueError) as e:
        find_anchor("ours", "val", curves)
    assert str(e.value) == "--anchor 'ours' matches both 'OURS' and 'Ours' on val (ignoring case): give the exact label"
    assert find_anchor("Ours", "val", curves) == "Ours" and find_anchor("jpeg", "val", curves) == "JPEG"
