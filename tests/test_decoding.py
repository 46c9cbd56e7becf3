"""The decoder side of taco.codec: format versions, bounded memory (tiled synthesis, banded
float64 convolutions), progress, caps and quality (issue 17)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image

import taco
from taco import codec
from taco.bitstream import TacoFormatError, TacoHeader, pack, unpack
from taco.bitstream.rans import MAX_UNCHUNKED_SYMBOLS, split_stream
from taco.codec import (
    check_synthesis_shape,
    coded_shape_form,
    coding_codec,
    decompress_tensor,
    synthesis_tiles,
    synthesize,
)
from taco.errors import BackboneError
from taco.images import tensor_to_image
from taco.memory import MAX_DECODE_PIXELS, decode_memory_estimate
from taco.models import ELIC, MODEL_CONFIGS, conv_bands, create_model, fast_codec, model_fingerprint
from taco.models.config import BUILTIN_ARCHITECTURES
from taco.samples import SAMPLES_DIR as SAMPLES

DATA = Path(__file__).resolve().parent / "data"


# --------------------------------------------------------------------------- format versions


def test_a_version_2_file_decodes_to_the_pixels_of_its_version_3_file():
    """A real version-2 file (one rANS string, written by taco before format 3) and the format-3
    file of the same image (the same symbols in two chunks): the same pixels."""
    v2 = (DATA / "format2" / "elic-small-q4-astronaut.taco").read_bytes()
    assert hashlib.sha256(v2).hexdigest().startswith("c429fd2d")
    assert unpack(v2).header.version == 2
    model = taco.load("elic-small-q4")
    v3 = taco.compress(Image.open(SAMPLES / "skimage-astronaut.png").convert("RGB"), None, model)
    f3 = unpack(v3)
    assert f3.header.version == 3 and len(v3) == len(v2) + 11  # quality byte, a length, a state
    symbols = fast_codec.num_symbols(coding_codec(model), model.latent_shapes(512, 512))
    assert len(split_stream(f3.payload, symbols)) == 2
    assert np.array_equal(np.asarray(taco.decompress(v2)), np.asarray(taco.decompress(v3, model)))


def test_a_long_version_2_string_decodes_to_the_pixels_of_its_version_3_file(monkeypatch):
    """The same as above without any shipped weights (they change: issue 14): format 2's one
    rANS string for the whole image, written as format 2 did (one encoder for all symbols: the
    chunk size out of reach), of a seeded model of the width that wrote the real file."""
    import zlib

    from taco.bitstream import rans

    model = create_model("elic-small", seed=0)
    image = Image.open(SAMPLES / "skimage-astronaut.png").convert("RGB")
    symbols = fast_codec.num_symbols(coding_codec(model), model.latent_shapes(512, 512))
    assert rans.CHUNK_SYMBOLS < symbols <= MAX_UNCHUNKED_SYMBOLS  # 2 chunks in format 3
    v3 = taco.compress(image, None, model)
    assert len(split_stream(unpack(v3).payload, symbols)) == 2
    with monkeypatch.context() as m:
        m.setattr(rans, "CHUNK_SYMBOLS", 1 << 30)
        one = taco.compress(image, None, model)
    assert len(one) < len(v3)  # one string: one rANS state and no chunk lengths fewer
    f = unpack(one)
    head = one[:4] + b"\x02" + one[5:6] + one[7 : f.header_bytes - 4]  # no quality byte
    v2 = head + zlib.crc32(f.payload, zlib.crc32(head)).to_bytes(4, "big") + f.payload
    assert unpack(v2).header.version == 2 and len(v3) > len(v2)
    assert np.array_equal(np.asarray(taco.decompress(v2, model)), np.asarray(taco.decompress(v3, model)))


def test_a_version_2_file_too_long_for_one_string_is_refused_by_name(tiny_elic):
    """Over MAX_UNCHUNKED_SYMBOLS the single string's guard padding would grow with the declared
    size: refused, naming the model and saying to re-encode."""
    side = 64 * 46  # elic-tiny: 32 x 184 x 184 + 16 x 46 x 46 symbols > 2^20
    header = TacoHeader("elic-tiny", model_fingerprint(tiny_elic), side, side, "RGB")
    v3 = pack(header, (1 << 40).to_bytes(8, "little"))
    f = unpack(v3)
    import zlib

    head = v3[:4] + b"\x02" + v3[5:6] + v3[7 : f.header_bytes - 4]
    v2 = head + zlib.crc32(f.payload, zlib.crc32(head)).to_bytes(4, "big") + f.payload
    with pytest.raises(TacoFormatError, match=r"format version 2 .* up to 1,048,576 coded symbols; its "
                       r"2944x2944 image has 1,117,248: re-encode the original image with model 'elic-tiny'"):
        taco.decompress(v2, tiny_elic)
    assert MAX_UNCHUNKED_SYMBOLS == 1 << 20


def test_quality_other_than_0_needs_a_variable_rate_model(tiny_elic, sample_image):
    data = taco.compress(sample_image.crop((0, 0, 64, 64)), None, tiny_elic)
    f = unpack(data)
    other = pack(TacoHeader(**{**f.header.__dict__, "quality": 3}), f.payload)
    assert unpack(other).header.quality == 3
    with pytest.raises(TacoFormatError, match="quality index 3 of a variable-rate model"):
        taco.decompress(other, tiny_elic)


def test_the_cap_message_gives_the_memory_it_would_take(tiny_elic):
    header = TacoHeader("elic-tiny", model_fingerprint(tiny_elic), 12000, 8000, "RGB")
    with pytest.raises(TacoFormatError, match=r"8000x12000 image \(96,000,000 pixels\), over the decoder's "
                       rf"cap of {MAX_DECODE_PIXELS:,}; decoding it would take about [\d.]+ GiB"):
        taco.decompress(pack(header, bytes(8)), tiny_elic)
    assert decode_memory_estimate(MAX_DECODE_PIXELS) < 2 * 2**30


# --------------------------------------------------------------------------- tiled synthesis


@pytest.mark.parametrize("arch", [
    pytest.param(a, marks=[pytest.mark.slow] if MODEL_CONFIGS[a].N > 48 else []) for a in sorted(MODEL_CONFIGS)])
def test_the_synthesis_halo_covers_what_one_latent_reaches(arch):
    """A change to one latent moves pixels at most 8.25 latents away (132 px) in ELIC's g_s,
    measured in float64 with a delta, for every registered architecture (the paper-size ones
    ``slow``): the model's synthesis_halo (9 for ELIC's g_s), which taco.codec tiles with,
    covers it. A tile's pixels are the whole image's when no latent outside its halo reaches
    them: reach <= latent_scale x synthesis_halo, the condition a backbone is held to (a
    scale-8 g_s reaching 14 px tiles exactly with a halo of 2, with seams at 1); taco's own keep
    ELIC's 12 px margin."""
    model = create_model(arch, seed=0)
    g_s = model.g_s.double().eval()
    m, n = model.M, 24
    y = torch.randn(1, m, n, n, dtype=torch.float64)
    with torch.no_grad():
        a = g_s(y)
        y[..., n // 2, n // 2] += 5
        changed = (g_s(y) - a).abs().sum(1)[0] > 0
    rows = changed.any(1).nonzero().flatten()
    s = model.latent_scale
    c = s * (n // 2)
    reach = max(c - int(rows.min()), int(rows.max()) - (c + s - 1))
    assert reach <= s * model.synthesis_halo
    if model.config.architecture in BUILTIN_ARCHITECTURES:
        assert reach <= s * model.synthesis_halo - 12  # ELIC's margin: 144 - 132
        assert 100 < reach  # 132 px: ELIC's g_s, the measure its halo of 9 was chosen by


def test_synthesis_tiles_cover_the_latent_once():
    for h, w, n in [(7, 5, 48), (128, 128, 48), (129, 300, 48), (624, 624, 48), (200, 90, 192)]:
        cover = np.zeros((h, w), int)
        tiles = synthesis_tiles(ELIC(N=n, M=32, groups=(16, 16), ctx_hidden=(16, 16)), h, w)
        for rows, cols in tiles:
            cover[rows, cols] += 1
        assert (cover == 1).all()
        assert (len(tiles) == 1) == ((16 * h) * (16 * w) * n <= codec.SYNTHESIS_TILE_BUDGET)


@pytest.fixture()
def small_tiles(monkeypatch):
    """Tiles of 8 latents (the smallest; + the halo) for a width-16 model: a 451x300 photo takes 12."""
    monkeypatch.setattr(codec, "SYNTHESIS_TILE_BUDGET", 16 * (16 * (6 + 2 * ELIC.synthesis_halo)) ** 2)


def test_tiled_synthesis_matches_the_whole_image(tiny_elic, sample_image, small_tiles):
    """Tile by tile (float32, as decoded): the pixels of the whole-image synthesis within one grey
    level (float rounding differs with the tile's size), almost all identical; 8-bit output is
    what tensor_to_image makes of the float output."""
    data = taco.compress(sample_image, None, tiny_elic)
    y_hat = fast_codec.decompress_latent(coding_codec(tiny_elic), [[unpack(data).payload]],
                                         tiny_elic.latent_shapes(320, 512))["y_hat"]
    assert len(synthesis_tiles(tiny_elic, 20, 32)) == 12
    with torch.no_grad():
        whole = tiny_elic.g_s(y_hat).clamp(0, 1)[..., :300, :451]
    tiled = torch.empty(1, 3, 300, 451)
    eight_bit = torch.empty(300, 451, 3, dtype=torch.uint8)
    calls = []
    synthesize(tiny_elic, y_hat, 300, 451, tiled, lambda *a: calls.append(a))
    synthesize(tiny_elic, y_hat, 300, 451, eight_bit)
    assert calls == [("synthesis", i, 12) for i in range(13)]
    assert (tiled - whole).abs().max() < 1e-4
    a, b = np.asarray(tensor_to_image(whole)).astype(int), np.asarray(tensor_to_image(tiled)).astype(int)
    assert np.abs(a - b).max() <= 1 and (a != b).mean() < 1e-3
    assert np.array_equal(np.asarray(tensor_to_image(tiled)), eight_bit.numpy())
    assert np.array_equal(eight_bit.numpy(), np.asarray(taco.decompress(data, tiny_elic)))


def test_tiles_read_the_models_own_synthesis_halo(small_tiles, monkeypatch):
    """A backbone that reaches further (synthesis_halo 12, not ELIC's 9) gets tiles read with
    its halo: the first of the 20x32 latent's tiles (8x8 latents) reads 8 + 12 rows and columns,
    the pixels stay the whole synthesis's."""
    y = torch.randn(1, 32, 20, 32, dtype=torch.float64)
    model = create_model("elic-tiny", seed=0).double()
    monkeypatch.setattr(model, "synthesis_halo", 12)
    reads: list[tuple[int, ...]] = []
    model.g_s.register_forward_pre_hook(lambda _, args: reads.append(tuple(args[0].shape[-2:])))
    tiled = torch.empty(1, 3, 320, 512, dtype=torch.float64)
    synthesize(model, y, 320, 512, tiled)
    assert reads[0] == (20, 20) and len(reads) == 12  # ELIC's halo would read (17, 17)
    with torch.no_grad():
        assert (tiled - model.g_s(y).clamp(0, 1)).abs().max() < 1e-12


def test_tiled_synthesis_is_exact_in_float64(sample_image, small_tiles):
    model = create_model("elic-tiny", seed=0).double()
    y = torch.randn(1, 32, 20, 29, dtype=torch.float64)
    with torch.no_grad():
        whole = model.g_s(y).clamp(0, 1)
    tiled = torch.empty(1, 3, 320, 464, dtype=torch.float64)
    synthesize(model, y, 320, 464, tiled)
    assert (tiled - whole).abs().max() < 1e-12


def test_progress_reports_the_stages(tiny_elic, sample_image, small_tiles):
    data = taco.compress(sample_image, None, tiny_elic)
    calls = []
    decompress_tensor(data, tiny_elic, progress=lambda *a: calls.append(a))
    assert calls == [("entropy decoding", 0, 1), ("entropy decoding", 1, 1)] + [("synthesis", i, 12) for i in range(13)]


# --------------------------------------------------------------------------- banded convolutions


LAYERS = [  # what the float64 latent codecs hold: 5x5 and 3x3 convolutions, stride 1 and 2,
    nn.Conv2d(8, 12, 5, padding=2),  # transposed ones (h_s), the checkerboard context
    nn.Conv2d(8, 12, 3, padding=1),
    nn.Conv2d(8, 12, 5, stride=2, padding=2),
    nn.Conv2d(8, 12, 3),
    nn.ConvTranspose2d(8, 12, 5, stride=2, padding=2, output_padding=1),
    nn.ConvTranspose2d(8, 12, 3, padding=1),
    nn.ConvTranspose2d(8, 12, 4, stride=2, padding=1),
]


@pytest.mark.parametrize("layer", LAYERS, ids=lambda m: repr(m)[:60])
@pytest.mark.parametrize("shape", [(1, 8, 37, 23), (2, 8, 64, 64), (1, 8, 5, 70)])
def test_banded_convolutions_equal_whole_ones(monkeypatch, layer, shape):
    monkeypatch.setattr(conv_bands, "CONV_BAND_BYTES", 1 << 14)  # a few rows per band
    layer = layer.double()
    x = torch.randn(shape, dtype=torch.float64)
    with torch.no_grad():
        whole = layer(x)
        conv_bands.band_convolutions(layer)
        assert conv_bands.conv_band_rows(layer, x) is not None
        banded = layer(x)
    assert banded.shape == whole.shape and (banded - whole).abs().max() < 1e-12


def test_small_inputs_are_not_banded(tiny_elic):
    """Under CONV_BAND_BYTES of columns the convolution runs whole, exactly as before."""
    rows = conv_bands.conv_band_rows
    layer = conv_bands.band_convolutions(nn.Conv2d(64, 128, 5, padding=2).double())
    assert rows(layer, torch.zeros(1, 64, 70, 70, dtype=torch.float64)) is None  # 63 MB
    assert rows(layer, torch.zeros(1, 64, 80, 80, dtype=torch.float64)) is not None
    assert rows(nn.Conv2d(64, 128, 1), torch.zeros(1, 64, 999, 999)) is None  # 1x1
    codec_ = coding_codec(tiny_elic)
    assert all(isinstance(m, conv_bands._Banded) for m in codec_.modules() if isinstance(m, nn.Conv2d))


def test_banded_coding_round_trips(monkeypatch, sample_image):
    """Encoder and decoder both banded (a few rows at a time): the file decodes to the latents
    the encoder coded, as unbanded coding does."""
    monkeypatch.setattr(conv_bands, "CONV_BAND_BYTES", 1 << 15)
    model = create_model("elic-tiny", seed=0)
    data = taco.compress(sample_image, None, model)
    codec_ = coding_codec(model)
    y = model.g_a(codec.pad_to_multiple(taco.images.image_to_tensor(sample_image)))
    with torch.no_grad():
        coded = fast_codec.compress_latent(codec_, y)
        decoded = fast_codec.decompress_latent(codec_, [[unpack(data).payload]], coded["shape"])
    assert torch.equal(decoded["y_hat"], coded["y_hat"])


def test_taco_info_shows_the_quality(tiny_elic, sample_image, tmp_path, capsys):
    import json

    from taco.cli import main

    f = unpack(taco.compress(sample_image.crop((0, 0, 64, 64)), None, tiny_elic))
    path = tmp_path / "q.taco"
    path.write_bytes(pack(TacoHeader(**{**f.header.__dict__, "quality": 5}), f.payload))
    assert main(["info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["format_version"], info["quality"], info["header_bytes"]) == (3, 5, 22)


class Wide:
    """What check_synthesis_shape reads of a model: its class name and latent_scale."""

    latent_scale = 16


def test_the_up_sampling_factor_is_said_of_a_wide_tile() -> None:
    """rows 0..2 x cols 0..4 (2 x 4 latents) synthesised at 32 per latent: 'by 32', read from
    each side's own size."""
    x = torch.zeros(1, 3, 64, 128)
    with pytest.raises(BackboneError, match=r"synthesises 4x2 latent positions into shape "
                       r"\(1, 3, 64, 128\) \(it up-samples by 32\)"):
        check_synthesis_shape(Wide(), x, 1, slice(0, 2), slice(0, 4))
    check_synthesis_shape(Wide(), torch.zeros(1, 3, 32, 64), 1, slice(0, 2), slice(0, 4))  # right: no error


@pytest.mark.parametrize("bad", [torch.tensor(8.0), torch.tensor(8.5), 8.0, True])
def test_a_coded_shape_of_floats_or_bools_is_not_the_form(bad: object) -> None:
    """A shape is integers (0-d integer tensors included): a float tensor (8.5 would be read as
    8) or a bool is not one."""
    good = {"y": [(8, 4, 4), (torch.tensor(8), 4, 4)], "hyper": (2, 2)}
    assert coded_shape_form(good)
    assert not coded_shape_form({"y": [(bad, 4, 4)], "hyper": (2, 2)})
    assert not coded_shape_form({"y": [(8, 4, 4)], "hyper": (bad, 2)})
