"""Variable-rate models: the gain units of Cui et al. 2021 (taco.models.gains) in the latent codec."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch

from taco.codec import coding_codec
from taco.models import (
    ModelConfig,
    create_model,
    fast_codec,
    load,
    model_fingerprint,
    save_checkpoint,
)
from taco.models.config import QUALITY_LAMBDAS, check_lambdas
from taco.models.gains import QualityGains, check_quality, default_quality
from taco.text.base import TextTokens

LAMBDAS = [0.0004, 0.0016, 0.009]


def vr_model(name: str = "elic-tiny", lambdas=LAMBDAS, seed: int = 0):
    return create_model(name, seed=seed, qualities=list(lambdas))


def test_qualities_are_left_out_of_the_digest_when_single_rate():
    cfg = ModelConfig(architecture="elic")
    # written before the fields qualities and options (a registered backbone's settings)
    old = {k: v for k, v in cfg.to_dict().items() if k not in ("qualities", "options")}
    assert ModelConfig.from_dict(old).qualities is None
    assert ModelConfig.from_dict(old).digest() == cfg.digest()
    blob = json.dumps({k: v for k, v in old.items() if k not in ("text_injection", "injector_at")},
                      sort_keys=True, separators=(",", ":")).encode()
    assert cfg.digest() == hashlib.sha256(blob).hexdigest()
    vr = ModelConfig(architecture="elic", qualities=LAMBDAS)
    assert vr.digest() != cfg.digest()
    assert ModelConfig.from_dict(vr.to_dict()) == vr


@pytest.mark.parametrize("bad, match", [
    ([], "1..255"), ([0.004, 0.0016], "increasing"), ([0.001, 0.001], "increasing"),
    ([-1.0], "positive"), ([float("nan")], "positive"), ("0.004", "list"), (list(range(1, 300)), "1..255"),
])
def test_config_refuses_bad_qualities(bad, match):
    with pytest.raises(ValueError, match=match):
        ModelConfig(qualities=bad)


def test_config_refuses_qualities_in_the_compressai_layout():
    with pytest.raises(ValueError, match="reference"):
        ModelConfig(layout="compressai", qualities=LAMBDAS)


def test_quality_lambdas_are_the_papers_six_plus_one_lower():
    from taco.losses import LAMBDAS as PAPER

    assert QUALITY_LAMBDAS[1:] == PAPER
    assert QUALITY_LAMBDAS[0] == PAPER[0] / 2
    assert default_quality(len(QUALITY_LAMBDAS)) == 4
    assert QUALITY_LAMBDAS[3] == 0.0016  # the middle one: the paper's third point
    assert check_lambdas(QUALITY_LAMBDAS) == list(QUALITY_LAMBDAS)


def test_gains_start_at_the_square_root_of_lambda_and_draw_no_random_numbers():
    gains = QualityGains(LAMBDAS, M=4, N=3)
    mean = torch.tensor(LAMBDAS).log().mean().exp()
    want = (torch.tensor(LAMBDAS) / mean).sqrt()
    assert torch.allclose(gains.gain[:, 0], want)
    assert torch.allclose(gains.gain * gains.inverse_gain, torch.ones(3, 4))
    assert torch.equal(gains.hyper_gain, torch.ones(3, 3))
    single, vr = create_model("taco-tiny", seed=3), vr_model("taco-tiny", seed=3)
    vr_state = vr.state_dict()
    for key, value in single.state_dict().items():
        assert torch.equal(value, vr_state[key]), key  # same weights: init_from works both ways
    extra = sorted(set(vr_state) - set(single.state_dict()))
    assert extra == [f"latent_codec.gains.{n}" for n in
                     ("gain", "hyper_gain", "inverse_gain", "inverse_hyper_gain")]


def test_quality_must_be_given_to_a_variable_rate_model_and_only_to_it():
    vr, single = vr_model(), create_model("elic-tiny")
    x = torch.rand(1, 3, 64, 64)
    assert vr.qualities == tuple(LAMBDAS) and vr.default_quality == 2
    assert single.qualities is None and single.default_quality is None
    for bad in (None, 0, 4, "2"):  # a string: this model reads no text, and says so
        with pytest.raises(ValueError, match="quality"):
            vr(x, quality=bad)
    for bad in (1.5, True):
        with pytest.raises(TypeError, match="quality"):
            vr(x, quality=bad)
    with pytest.raises(ValueError, match="single-rate"):
        single(x, quality=1)
    with pytest.raises(ValueError, match="single-rate"):
        single.latent_shapes(64, 64, quality=1)
    legacy = create_model("elic-tiny", layout="compressai")
    with pytest.raises(ValueError, match="single-rate"):
        legacy.compress(x, quality=1)
    with pytest.raises(ValueError, match="single-rate"):
        fast_codec.compress_latent(coding_codec(legacy), torch.zeros(1, 32, 4, 4), quality=1)


def test_every_model_and_codec_checks_a_quality_with_one_rule():
    """taco.models.gains.check_quality: the models, their latent codecs and fast_codec say the
    same thing for the same quality (a non-integer given to a model used to read 'quality must
    be an int or None, not float', to a variable-rate codec 'an integer 1..Q, got 1.5')."""
    text = TextTokens(torch.zeros(1, 38, 8), torch.ones(1, 38, dtype=torch.bool))
    check_quality(None, None)
    check_quality(3, 3)
    for quality, num, match in ((1, None, r"^this is a single-rate model: it takes no quality \(got 1\)$"),
                                (text, None, r"takes no quality \(got TextTokens\)$"),
                                (None, 3, r"^this is a variable-rate model: give quality=1\.\.3$"),
                                (0, 3, r"^quality must be an integer 1\.\.3, got 0$")):
        with pytest.raises(ValueError, match=match):
            check_quality(quality, num)
    for quality, kind in ((True, "bool"), (1.5, "float"), ("2", "str")):
        with pytest.raises(TypeError, match=rf"^quality must be an integer 1\.\.3, not {kind}$"):
            check_quality(quality, 3)
    vr, x = vr_model(), torch.rand(1, 3, 64, 64)
    with pytest.raises(TypeError, match=r"^quality must be an integer 1\.\.3, not float$"):
        vr(x, quality=1.5)
    with pytest.raises(ValueError, match=r"^quality must be an integer 1\.\.3, got 4$"):
        vr.latent_shapes(64, 64, quality=4)
    legacy = coding_codec(create_model("elic-tiny", layout="compressai"))
    with pytest.raises(ValueError, match=r"takes no quality \(got TextTokens\)$"):
        fast_codec.compress_latent(legacy, torch.zeros(1, 32, 4, 4), quality=text)


@pytest.mark.parametrize("name", ["elic-tiny", "taco-tiny"])
def test_every_quality_codes_exactly_and_rate_grows_with_quality(name):
    """Model level: forward (eval), compress and decompress agree at every quality; the float64
    coding copy decodes its own streams exactly; higher quality, more bits (the √λ start)."""
    model = vr_model(name, seed=1)
    x = torch.rand(2, 3, 128, 128)
    args = ()
    if model.uses_text:
        from taco.text.base import TextTokens

        args = (TextTokens(torch.randn(2, 5, model.text_dim), torch.ones(2, 5, dtype=torch.bool)),)
    codec = coding_codec(model)
    sizes, bpps = [], []
    with torch.no_grad():
        y = model.analysis(x, *args)
        for q in (1, 2, 3):
            fwd = model.latent_codec(y, q)
            enc = model.latent_codec.compress(y, q)
            assert enc["shape"]["quality"] == q
            assert torch.equal(fwd["y_hat"], enc["y_hat"])
            assert torch.equal(model.latent_codec.decompress(enc["strings"], enc["shape"])["y_hat"],
                               enc["y_hat"])
            out = model(x, *args, quality=q)
            bpps.append(float(-torch.log2(out["likelihoods"]["y"]).sum()))
            dec = model.decompress(**model.compress(x, *args, quality=q))
            assert dec["x_hat"].shape == x.shape
            # the coding path: float64 copy, one stream per image
            c = fast_codec.compress_latent(codec, y, q)
            d = fast_codec.decompress_latent(codec, c["strings"], c["shape"])
            assert torch.equal(c["y_hat"], d["y_hat"]) and d["y_hat"].dtype == torch.float32
            hyper = fast_codec.compress_hyper(codec, y, quality=q)
            groups = fast_codec.compress_groups(codec, y, hyper["params"], hyper["stream"], quality=q)
            assert groups["stream"].flush() == c["strings"][0]
            sizes.append(sum(map(len, c["strings"][0])))
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    assert bpps == sorted(bpps)


def test_a_stream_decoded_at_another_quality_is_not_the_image():
    model = vr_model()
    codec = coding_codec(model)
    y = 4 * torch.randn(1, 32, 8, 8)
    enc = fast_codec.compress_latent(codec, y, 3)
    wrong = fast_codec.decompress_latent(codec, enc["strings"], {**enc["shape"], "quality": 2})
    assert not torch.equal(wrong["y_hat"], enc["y_hat"])


def test_checkpoint_round_trip_keeps_qualities_and_fingerprint(tmp_path):
    model = vr_model("taco-tiny")
    path = save_checkpoint(model, tmp_path / "vr.safetensors", half=True)
    loaded = load(path)
    assert loaded.qualities == tuple(LAMBDAS)
    assert loaded.config.qualities == LAMBDAS
    x = torch.rand(1, 3, 64, 64)
    from taco.text.base import TextTokens

    text = TextTokens(torch.randn(1, 5, model.text_dim), torch.ones(1, 5, dtype=torch.bool))
    with torch.no_grad():
        a = loaded.compress(x, text, quality=3)
        b = load(path).compress(x, text, quality=3)
    assert a["strings"] == b["strings"]
    assert model_fingerprint(loaded) == model_fingerprint(load(path))



def test_every_quality_codes_the_same_with_one_and_two_threads(sample_image, spread_scales):
    """The coding copy's float64 entropy parameters, gains included, agree bit for bit across
    thread counts at every quality: the same bytes and, decoding with either count, the
    encoder's latents."""
    from taco.codec import pad_to_multiple
    from taco.images import image_to_tensor

    model = vr_model(lambdas=[0.0002, 0.0016, 0.015])
    spread_scales(model)
    codec = coding_codec(model)
    x = pad_to_multiple(image_to_tensor(sample_image.crop((0, 0, 256, 192))))
    with torch.no_grad():
        y = model.analysis(x)
    for q in (1, 2, 3):
        encoded = {}
        for threads in (2, 1):
            torch.set_num_threads(threads)
            encoded[threads] = fast_codec.compress_latent(codec, y, q)
        assert encoded[1]["strings"] == encoded[2]["strings"], q
        assert torch.equal(encoded[1]["y_hat"], encoded[2]["y_hat"])
        for threads in (2, 1):
            torch.set_num_threads(threads)
            enc = encoded[3 - threads]  # written with the other thread count
            assert torch.equal(
                fast_codec.decompress_latent(codec, enc["strings"], enc["shape"])["y_hat"], enc["y_hat"])
        with torch.no_grad():
            fwd = model.latent_codec(y, q)
        assert -torch.log2(fwd["likelihoods"]["y"]).mean() > 0.5  # the scales really spread out


def test_the_coding_copy_inverse_gain_is_the_float32_models_product():
    """y_hat leaves the float64 coding copy times the inverse gain, rounded once to float32: the
    product of two float32 values is exact in float64, so this is the float32 model's own
    product, bit for bit, whatever the values."""
    from taco.models.entropy import _inverse_gained

    model = vr_model()
    with torch.no_grad():  # gains far from their start, of any magnitude
        g = model.latent_codec.gains.inverse_gain
        g.copy_(torch.exp(torch.randn_like(g) * 4))
    codec = coding_codec(model)
    gen = torch.Generator().manual_seed(0)
    y_hat = (torch.randn(2, 32, 8, 8, generator=gen) * 37).round() + torch.rand(2, 32, 8, 8, generator=gen)
    y_hat[0, :, 0] *= torch.exp(torch.randn(32, 8, generator=gen) * 20)  # tiny to huge values
    for q in (1, 2, 3):
        g64, g32 = codec.gains.vectors(q), model.latent_codec.gains.vectors(q)
        assert g64.y_inverse.dtype == torch.float64
        exact = (y_hat.double() * g64.y_inverse).float()  # exact in float64, rounded once
        coded = y_hat.clone()
        out = _inverse_gained(coded, g64)
        assert out.dtype == torch.float32 and out.data_ptr() == coded.data_ptr()  # in place
        assert torch.equal(out, y_hat * g32.y_inverse) and torch.equal(out, exact)
