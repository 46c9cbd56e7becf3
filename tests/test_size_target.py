"""Compressing to a size budget (``max_bytes=``, ``taco compress --max-bytes/--target-bpp``): a
variable-rate model's one analysis is entropy-coded at qualities chosen by bisection, and the
file kept is the highest quality tried whose whole file fits."""

from __future__ import annotations

import json
import math
from argparse import Namespace
from fractions import Fraction

import pytest

import taco
import taco.codec
from taco.bitstream import unpack
from taco.cli import main
from taco.cli.compress import bpp_bytes, byte_budget, target_bpp
from taco.codec import SizeBudgetError, compress_image
from taco.models import create_model, save_checkpoint
from taco.pipeline import compress_batch

LAMBDAS = [0.0002, 0.0004, 0.0009, 0.0018, 0.0035, 0.0067, 0.013]  # Q = 7, as elic-vr


@pytest.fixture(scope="module")
def vr(spread_scales):
    """elic-tiny with seven qualities, its scales spread as a trained model's are, so that the
    file grows with the quality (a random model's barely does)."""
    model = create_model("elic-tiny", seed=0, qualities=LAMBDAS)
    spread_scales(model)
    return model


@pytest.fixture(scope="module")
def crop(sample_image):
    return sample_image.crop((0, 0, 200, 130))


@pytest.fixture(scope="module")
def sizes(vr, crop) -> dict[int, int]:
    """Bytes of the whole file at each quality 1..Q."""
    return {q: len(compress_image(crop, None, vr, quality=q).data) for q in range(1, len(LAMBDAS) + 1)}


def test_the_fixture_sizes_spread_with_quality(sizes):
    assert sizes[1] < sizes[4] < sizes[7]


def budgets(sizes: dict[int, int]) -> list[int]:
    """Each quality's size, one byte less, halfway to the next, and far above the largest."""
    values = sorted(sizes.values())
    return sorted({*values, *(v - 1 for v in values[1:]),
                   *((a + b) // 2 for a, b in zip(values, values[1:], strict=False)), 10 * values[-1]})


def test_the_file_chosen_fits_and_the_next_quality_would_not(vr, crop, sizes):
    q_max = len(LAMBDAS)
    for budget in budgets(sizes):
        res = compress_image(crop, None, vr, max_bytes=budget)
        assert len(res.data) <= budget
        assert unpack(res.data).header.quality == res.quality
        assert len(res.data) == sizes[res.quality]
        assert res.quality == q_max or sizes[res.quality + 1] > budget, (budget, res.quality)
        # the bytes of that quality asked for by number, and they decode from the file alone
        assert res.data == compress_image(crop, None, vr, quality=res.quality).data
    assert compress_image(crop, None, vr, max_bytes=sizes[q_max]).quality == q_max
    assert compress_image(crop, None, vr, max_bytes=sizes[1]).quality == 1
    data = taco.compress(crop, None, vr, max_bytes=sizes[3])
    assert unpack(data).header.quality == 3
    assert taco.decompress(data, vr).size == crop.size


def test_the_analysis_runs_once_and_the_coder_bisects(vr, crop, sizes, monkeypatch):
    analyses, codings = [], []
    analysis, entropy_code = vr.analysis, taco.codec.entropy_code

    def counted_analysis(*args, **kwargs):
        analyses.append(1)
        return analysis(*args, **kwargs)

    def counted_coding(model, y, quality=None, **kwargs):
        codings.append(quality)
        return entropy_code(model, y, quality, **kwargs)

    monkeypatch.setattr(vr, "analysis", counted_analysis)
    monkeypatch.setattr(taco.codec, "entropy_code", counted_coding)
    stages = []
    res = compress_image(crop, None, vr, max_bytes=sizes[5],
                         progress=lambda stage, done, total: stages.append((stage, done, total)))
    assert res.quality == 5
    assert len(analyses) == 1
    assert codings == [4, 6, 5]  # bisection over 0..8: 3 codings for Q = 7
    assert [s for s in stages if s[0] == "entropy coding"] == [("entropy coding", i, 3) for i in range(3)]


def test_sizes_that_do_not_grow_with_quality_still_give_a_file_that_fits(vr, crop, monkeypatch):
    """The bisection measures every size it relies on: with payloads of 500, 100, 900, 300, 700,
    200, 800 bytes for qualities 1..7 the file returned fits and the quality above it does not."""
    payload = {1: 500, 2: 100, 3: 900, 4: 300, 5: 700, 6: 200, 7: 800}

    def fake_coding(model, y, quality=None, **kwargs):
        shape = model.latent_shapes(*(n * model.latent_scale for n in y.shape[-2:]), quality)
        return {"strings": [[bytes(payload[quality])]], "shape": shape, "y_hat": None}

    monkeypatch.setattr(taco.codec, "entropy_code", fake_coding)
    header = compress_image(crop, None, vr, max_bytes=10_000).header_bytes
    for budget in range(header + 50, header + 1000, 50):
        try:
            res = compress_image(crop, None, vr, max_bytes=budget)
        except SizeBudgetError:
            assert header + payload[1] > budget
            continue
        assert len(res.data) == header + payload[res.quality] <= budget
        assert res.quality == 7 or header + payload[res.quality + 1] > budget


def test_a_budget_under_quality_1_says_the_smallest_size(vr, crop, sizes):
    with pytest.raises(SizeBudgetError) as caught:
        compress_image(crop, None, vr, max_bytes=sizes[1] - 1)
    assert isinstance(caught.value, taco.TacoError) and isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert f"{sizes[1]:,} bytes" in message and "quality 1" in message and "200x130" in message


def test_single_rate_models_and_wrong_budgets_are_refused_before_any_work(vr, tiny_elic, crop):
    with pytest.raises(ValueError, match="needs a variable-rate model"):
        taco.compress(crop, None, tiny_elic, max_bytes=10_000)
    with pytest.raises(ValueError, match="not both"):
        taco.compress(crop, None, vr, quality=3, max_bytes=10_000)
    with pytest.raises(ValueError, match="positive"):
        compress_image(crop, None, vr, max_bytes=0)
    with pytest.raises(TypeError, match="max_bytes must be an integer"):
        compress_image(crop, None, vr, max_bytes=1e4)
    with pytest.raises(ValueError, match="not both"):
        compress_batch([crop], None, vr, quality=1, max_bytes=10_000)


def test_compress_batch_fits_each_image_on_its_own(vr, crop, sample_image, sizes):
    other = sample_image.crop((100, 100, 300, 230))  # same size: one batch
    budget = sizes[4]
    results = compress_batch([crop, other], None, vr, max_bytes=budget)
    for image, res in zip([crop, other], results, strict=True):
        assert res.data == compress_image(image, None, vr, max_bytes=budget).data
        assert len(res.data) <= budget
    with pytest.raises(SizeBudgetError, match=r"image 0 \(counting from 0\)"):
        compress_batch([crop, other], None, vr, max_bytes=sizes[1] - 1)


@pytest.fixture(scope="module")
def vr_file(vr, tmp_path_factory):
    return save_checkpoint(vr, tmp_path_factory.mktemp("vr") / "vr.safetensors")


def test_cli_max_bytes_and_target_bpp_round_trip(vr_file, crop, sizes, tmp_path, capsys):
    image = tmp_path / "cat.png"
    crop.save(image)
    target_bpp = 8 * (sizes[5] + 10) / (200 * 130)  # floor(B * W * H / 8): sizes[5] + 10 bytes
    for option, value, budget in (("--max-bytes", str(sizes[3]), sizes[3]),
                                  ("--target-bpp", repr(target_bpp),
                                   math.floor(Fraction(repr(target_bpp)) * 200 * 130 / 8))):
        out = tmp_path / f"{option[2:]}.taco"
        assert main(["compress", str(image), "-m", str(vr_file), option, value, "-o", str(out)]) == 0
        printed = capsys.readouterr().out
        quality = 3 if option == "--max-bytes" else 5
        assert f"quality {quality} (budget {budget} bytes)" in printed
        assert f"at quality {quality}:" in printed
        assert out.stat().st_size <= budget
        assert main(["info", str(out), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["quality"] == quality
        assert main(["decompress", str(out), "-m", str(vr_file), "--quiet"]) == 0


@pytest.mark.parametrize(("text", "width", "height", "budget"), [
    ("0.7", 96, 80, 672), ("0.35", 96, 80, 336), ("2.3", 800, 600, 138_000),
    ("2.3", 6000, 4000, 6_900_000), ("1e-3", 100, 80, 1), ("0.1", 1, 1, 1)])
def test_target_bpp_budget_is_exact(text, width, height, budget):
    """floor(B x W x H / 8) of B as written: a float's 0.7 x 7680 / 8 is 671.999... (671 bytes)."""
    args = Namespace(target_bpp=target_bpp(text), max_bytes=None)
    assert byte_budget(args, width, height) == budget


def test_cli_refusals(vr_file, tmp_path, crop, sizes, capsys):
    image = tmp_path / "cat.png"
    crop.save(image)
    out = str(tmp_path / "x.taco")
    for extra in (["-q", "2", "--max-bytes", "5000"], ["--max-bytes", "5000", "--target-bpp", "1"],
                  ["--max-bytes", "0"], ["--target-bpp", "nan"], ["--target-bpp", "1e308"],
                  ["--target-bpp", "1025"]):
        with pytest.raises(SystemExit) as caught:
            main(["compress", str(image), "-m", str(vr_file), "-o", out, *extra])
        assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "not allowed with" in err and "must be a number > 0 and <= 1024, got 1e308" in err
    assert main(["compress", str(image), "-m", "elic-tiny", "--target-bpp", "1", "-o", out]) == 2
    assert "--target-bpp needs a variable-rate model" in capsys.readouterr().err
    assert main(["compress", str(image), "-m", str(vr_file), "--max-bytes", str(sizes[1] - 1),
                 "-o", out]) != 0
    err = capsys.readouterr().err
    assert f"smallest file (quality 1) is {sizes[1]:,} bytes" in err
    assert not (tmp_path / "x.taco").exists()


def test_cli_help_names_the_options(capsys):
    with pytest.raises(SystemExit):
        main(["compress", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--max-bytes N" in text and "--target-bpp B" in text and "cwebp -size" in text



def test_cli_batch_skips_an_image_over_the_budget_and_does_the_rest(vr, vr_file, crop, sizes,
                                                                    tmp_path, capsys):
    small = crop.crop((0, 0, 16, 16))
    smallest = len(compress_image(small, None, vr, quality=1).data)
    assert smallest < sizes[1]
    folder = tmp_path / "in"
    folder.mkdir()
    crop.save(folder / "big.png")
    small.save(folder / "small.png")
    out = tmp_path / "out"
    assert main(["compress", str(folder), "-m", str(vr_file), "--max-bytes", str(sizes[1] - 1),
                 "-o", str(out)]) == 3
    err = capsys.readouterr().err
    assert "big.png" in err and f"is {sizes[1]:,} bytes" in err
    assert (out / "small.taco").stat().st_size <= sizes[1] - 1
    assert not (out / "big.taco").exists()


def test_a_target_bpp_that_does_not_fit_names_the_bpp(vr, vr_file, crop, sizes, tmp_path, capsys):
    """Review M: --target-bpp 0.0001 said 'does not fit in 1 bytes', the budget it was raised to;
    the error names the bpp asked for, and one byte is 'byte'."""
    image = tmp_path / "cat.png"
    crop.save(image)  # 200x130: 0.0001 bpp is 0.325 bytes, raised to 1
    out = str(tmp_path / "x.taco")
    assert main(["compress", str(image), "-m", str(vr_file), "--target-bpp", "0.0001", "-o", out]) != 0
    err = capsys.readouterr().err
    assert (f"{image}: --target-bpp 0.0001 is 0 bytes here, raised to 1: a 200x130 image does not fit "
            f"in 1 byte with model ") in err, err
    assert main(["compress", str(image), "-m", str(vr_file), "--target-bpp", "0.01", "-o", out]) != 0
    assert "--target-bpp 0.01 is 32 bytes here: a 200x130 image does not fit in 32 bytes" in capsys.readouterr().err


def test_the_smallest_files_bpp_is_one_target_bpp_reaches(vr, crop, monkeypatch):
    """The bpp a budget failure names is rounded up (234 bytes of 64x64, 0.45703, was printed
    0.4570, which --target-bpp gave 233 bytes for): floor(B x pixels / 8) reaches the file."""
    pixels = crop.width * crop.height
    header = compress_image(crop, None, vr, max_bytes=10_000).header_bytes
    for total in range(header + 100, header + 140):

        def fake_coding(model, y, quality=None, payload=total - header, **kwargs):
            shape = model.latent_shapes(*(n * model.latent_scale for n in y.shape[-2:]), quality)
            return {"strings": [[bytes(payload)]], "shape": shape, "y_hat": None}

        monkeypatch.setattr(taco.codec, "entropy_code", fake_coding)
        with pytest.raises(SizeBudgetError) as caught:
            compress_image(crop, None, vr, max_bytes=total - 1)
        said = str(caught.value).rpartition("(")[2].removesuffix(" bpp)")
        assert f"{total:,} bytes ({said} bpp)" in str(caught.value)
        assert math.floor(Fraction(said) * pixels / 8) >= total
        assert Fraction(said) - Fraction(8 * total, pixels) < Fraction(1, 10_000)


@pytest.mark.parametrize("bpp, width, height", [
    (Fraction(7, 10), 99, 81),  # 701.66 bytes: 701, not 702 (over the target)
    (Fraction(1, 3), 17, 13),  # 9.21
    (Fraction(9, 10), 5, 9),  # 5.06
    (Fraction(3, 4), 7, 11),  # 7.22
    (Fraction(1, 7), 33, 29),  # 17.09
    (Fraction(5, 9), 10, 10),  # 6.94
])
def test_the_target_bpp_budget_never_exceeds_the_target(bpp, width, height):
    budget = bpp_bytes(bpp, width, height)
    assert budget == math.floor(bpp * width * height / 8)
    assert budget * 8 <= bpp * width * height
