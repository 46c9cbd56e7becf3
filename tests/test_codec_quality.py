"""Variable-rate models through .taco files: the quality in the header, decoding from the file alone."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

import taco
from taco.bitstream import TacoFormatError, pack, unpack
from taco.codec import coding_codec, compress_image, decompress_tensor, pad_to_multiple
from taco.images import image_to_tensor
from taco.models import create_model, fast_codec

LAMBDAS = [0.0002, 0.0016, 0.009, 0.015]


@pytest.fixture(scope="module")
def vr(spread_scales):
    """elic-tiny with four qualities, its scale outputs spread over the whole table as a trained
    model's are (a random model's all sit below the table's first entry)."""
    model = create_model("elic-tiny", seed=2, qualities=LAMBDAS)
    spread_scales(model)
    return model


def test_every_quality_round_trips_through_the_file(vr, sample_image):
    crop = sample_image.crop((3, 5, 203, 135))  # 200x130: padded to 256x192
    x = pad_to_multiple(image_to_tensor(crop))
    with torch.no_grad():
        y = vr.analysis(x)
    sizes = []
    for q in range(1, len(LAMBDAS) + 1):
        res = compress_image(crop, None, vr, quality=q)
        header = unpack(res.data).header
        assert header.quality == res.quality == q
        # the decoder's latents are the encoder's, from the file alone
        shape = vr.latent_shapes(192, 256, header.quality)
        y_hat = fast_codec.decompress_latent(coding_codec(vr), [[unpack(res.data).payload]], shape)
        enc = fast_codec.compress_latent(coding_codec(vr), y, q)
        assert torch.equal(y_hat["y_hat"], enc["y_hat"])
        image = taco.decompress(res.data, vr)
        assert image.size == (200, 130)
        x_hat, _ = decompress_tensor(res.data, vr)
        with torch.no_grad():
            again = vr.g_s(enc["y_hat"]).clamp(0, 1)[..., :130, :200]
        assert torch.allclose(x_hat, again, atol=1e-6)
        sizes.append(len(res.data))
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


def test_the_default_is_the_middle_quality_and_single_rate_files_say_zero(vr, tiny_elic, sample_image):
    crop = sample_image.crop((0, 0, 64, 64))
    assert vr.default_quality == 2
    data = taco.compress(crop, None, vr)
    assert unpack(data).header.quality == 2
    assert data == taco.compress(crop, None, vr, quality=2)
    assert unpack(taco.compress(crop, None, tiny_elic)).header.quality == 0


@pytest.mark.parametrize("bad", [0, 5, -1])
def test_a_quality_the_model_does_not_have_is_refused(vr, bad):
    with pytest.raises(ValueError, match="quality must be an integer 1..4"):
        taco.compress(torch.rand(3, 32, 32), None, vr, quality=bad)


@pytest.mark.parametrize(("bad", "kind"), [(2.0, "float"), (True, "bool"), ("2", "str")])
def test_a_quality_that_is_no_integer_is_a_type_error(vr, bad, kind):
    """As the docstring says (and as max_bytes, max_pixels, batch_size are): a TypeError naming
    the argument, not the TacoValueError of an integer the model does not have."""
    with pytest.raises(TypeError, match=f"quality must be an integer 1..4 for model .*, not {kind}$"):
        taco.compress(torch.rand(3, 32, 32), None, vr, quality=bad)


def test_a_single_rate_model_takes_no_quality(tiny_elic):
    with pytest.raises(ValueError, match="single rate"):
        taco.compress(torch.rand(3, 32, 32), None, tiny_elic, quality=3)


def _with_quality(data: bytes, quality: int) -> bytes:
    parsed = unpack(data)
    return pack(dataclasses.replace(parsed.header, quality=quality), parsed.payload)


def test_a_header_quality_that_does_not_fit_the_model_is_a_format_error(vr, tiny_elic):
    image = torch.rand(3, 40, 50)
    data = taco.compress(image, None, vr, quality=3)
    for q in (0, 5, 255):
        with pytest.raises(TacoFormatError, match="quality"):
            taco.decompress(_with_quality(data, q), vr)
    single = taco.compress(image, None, tiny_elic)
    with pytest.raises(TacoFormatError, match="single-rate"):
        taco.decompress(_with_quality(single, 1), tiny_elic)
    # another valid quality (CRC re-sealed): another image or a format error, never a crash
    try:
        assert taco.decompress(_with_quality(data, 2), vr).size == (50, 40)
    except TacoFormatError:
        pass


def test_a_single_rate_built_in_names_the_models_of_its_other_rates(tiny_elic, monkeypatch):
    from taco.models import PretrainedEntry

    family = {f"x-small-q{k}": PretrainedEntry(f"x-small-q{k}.safetensors", "0" * 64, "elic", lmbda,
                                               "nothing")
              for k, lmbda in ((4, 0.004), (3, 0.0016))}
    monkeypatch.setattr("taco.models.rates.PRETRAINED", {**family, "y-small-q2": family["x-small-q3"]})
    monkeypatch.setattr(tiny_elic, "model_id", "x-small-q4", raising=False)
    with pytest.raises(ValueError, match=r"single rate .* chosen by name: x-small-q3 "
                                         r"\(λ=0\.0016\), x-small-q4 \(λ=0\.004\)$"):
        taco.compress(torch.rand(3, 32, 32), None, tiny_elic, quality=3)


@pytest.mark.parametrize("qualities", [np.array(LAMBDAS), [np.float32(v) for v in LAMBDAS],
                                       np.array(LAMBDAS, dtype=np.float32), torch.tensor(LAMBDAS)])
def test_qualities_may_come_from_numpy_or_torch(qualities):
    """float32 λs are read as their shortest decimal: 0.0002, not 0.00019999999494757503, which
    made another config, another fingerprint and a '+custom' model id."""
    model = create_model("elic-tiny", seed=2, qualities=qualities)
    assert model.config.qualities == list(LAMBDAS)
    assert all(type(v) is float for v in model.config.qualities)
    assert model.model_id == create_model("elic-tiny", seed=2, qualities=list(LAMBDAS)).model_id


@pytest.mark.parametrize("qualities", [[True, 0.5], ["0.1", "0.2"], "0.1", [0.2, 0.1], [math.nan]])
def test_qualities_that_are_no_lambdas_are_refused(qualities):
    with pytest.raises(ValueError, match="qualities must"):
        create_model("elic-tiny", seed=2, qualities=qualities)
