"""Mutation round 7a, group 1 (codec.py, models/entropy.py, models/fast_codec.py): behaviour that
no test pinned although a change to it changes what a user gets (several are bounds the C++
coder relies on when it reads hostile files)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from PIL import Image

import taco
import taco.codec
from taco import TacoFormatError
from taco.bitstream.container import TacoHeader, pack, unpack
from taco.codec import MAX_SIDE, check_image_size
from taco.errors import ImageSizeError, TacoValueError
from taco.models import fast_codec
from taco.models.entropy import check_latent_shapes, check_streams, quantize_symbols, scale_indexes


@pytest.fixture(scope="module")
def tiny():
    return taco.create_model("elic-tiny", seed=0)


def _photo(h: int, w: int, channels: int = 3) -> np.ndarray:
    shape = (h, w, channels) if channels > 1 else (h, w)
    return (np.random.default_rng(0).random(shape) * 255).astype(np.uint8)


# --------------------------------------------------------------------------- codec.py


def test_two_synthesis_tiles_are_synthesised_with_their_halo(tiny, monkeypatch):
    """K9: an image decoded in exactly two synthesis tiles gets the halo around each tile, so its
    pixels are those of the one-tile decode up to one grey level (no seam)."""
    data = taco.compress(_photo(64, 256), None, tiny)
    whole = np.asarray(taco.decompress(data, tiny)).astype(int)
    monkeypatch.setattr(taco.codec, "SYNTHESIS_TILE_BUDGET", 1)  # tiles of 8 latents: 1 x 2 here
    assert len(taco.codec.synthesis_tiles(tiny, 4, 16)) == 2
    tiled = np.asarray(taco.decompress(data, tiny)).astype(int)
    assert np.abs(tiled - whole).max() <= 1


def test_decompress_without_restore_gives_rgb_for_a_greyscale_photo(tiny):
    """K15: restore=False returns the decoded RGB image, also for a file of an "L" photo (whose
    mode restore=True gives back)."""
    data = taco.compress(Image.fromarray(_photo(64, 64, 1), "L"), None, tiny)
    assert taco.decompress(data, tiny, restore=False).mode == "RGB"
    assert taco.decompress(data, tiny).mode == "L"


def test_a_float_tensor_far_below_zero_is_refused(tiny):
    """K5: a [-1, 1]-normalised float tensor is refused (it would code as a clamped, dark image),
    as one on 0..255 is."""
    x = torch.linspace(-1, 1, 3 * 64 * 64).reshape(3, 64, 64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TacoValueError):
            taco.compress(x, None, tiny)


def test_an_image_of_max_side_rows_fits_the_format():
    """K1b: MAX_SIDE (32768) rows, as MAX_SIDE columns, is a size .taco holds; one more is not."""
    check_image_size(MAX_SIDE, 16)
    check_image_size(16, MAX_SIDE)
    for h, w in ((MAX_SIDE + 1, 16), (16, MAX_SIDE + 1)):
        with pytest.raises(ImageSizeError):
            check_image_size(h, w)


def test_a_quality_one_past_the_models_last_is_a_format_error():
    """K6: a checksum-valid file of a variable-rate model saying quality Q + 1 of its Q qualities
    is a TacoFormatError naming the qualities it has (not a ValueError from deeper in)."""
    model = taco.create_model("elic-tiny", seed=0, qualities=[0.0018, 0.0035, 0.0067])
    q = len(model.qualities)
    f = unpack(taco.compress(_photo(64, 64), None, model, quality=q))
    bad = pack(TacoHeader(f.header.model_id, f.header.fingerprint, 64, 64, "RGB", quality=q + 1), f.payload)
    with pytest.raises(TacoFormatError, match=f"quality {q + 1}, but model .* has qualities 1..{q}"):
        taco.decompress(bad, model)


# --------------------------------------------------------------------------- models/entropy.py


def test_scales_above_the_table_get_the_last_table_index():
    """E2: a scale above the scale table's last entry gets the index of the last of its CDFs
    (len(table) - 1, as CompressAI's build_indexes), never one past it: the C++ coder reads that
    CDF without a bounds check."""
    from compressai.entropy_models import GaussianConditional
    from compressai.models.base import get_scale_table

    gc = GaussianConditional(None)
    gc.update_scale_table(get_scale_table(), force=True)
    last = len(gc.scale_table) - 1
    indexes = scale_indexes(gc, torch.tensor([0.0, 1.0, 256.0, 300.0, 1e30])).tolist()
    assert indexes[0] == 0
    assert indexes[-3:] == [last, last, last]


def test_symbols_round_ties_to_even():
    """E1: symbols are torch.round's (ties to even, as CompressAI's), not floor(x + 0.5)."""
    got = quantize_symbols(torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5]), torch.zeros(5)).tolist()
    assert got == [0, 2, 2, 0, -2]


def test_reference_codec_band_rows_are_pinned():
    """E8: the reference layout's entropy-parameter bands (part of what the coder computes: large
    images' bytes follow them)."""
    codec = taco.create_model("elic-small", seed=0).latent_codec
    assert type(codec).__name__ == "ReferenceLatentCodec"
    assert codec.band_rows(512, 512) == 52
    assert codec.band_rows(1024, 2048) == 12
    assert codec.band_rows(64, 64) == 64  # a latent that fits is one band


def test_latent_shapes_are_checked_in_full():
    """E6: a y latent whose height or width does not fit z's is refused, not only its channels."""
    check_latent_shapes({"hyper": (2, 3), "y": [(8, 8, 12), (8, 8, 12)]}, [8, 8])
    for bad in ([(8, 8, 12), (8, 8, 13)], [(8, 9, 12), (8, 8, 12)]):
        with pytest.raises(ValueError, match="do not fit this codec"):
            check_latent_shapes({"hyper": (2, 3), "y": bad}, [8, 8])


def test_streams_without_an_image_are_refused():
    """E7: [[]] (no stream at all) is not [[stream per image]]."""
    check_streams([[b"x"]])
    with pytest.raises(ValueError, match="stream per image"):
        check_streams([[]])


# --------------------------------------------------------------------------- models/fast_codec.py


def test_compressai_layout_band_rows_are_pinned(monkeypatch):
    """F2: the bytes per latent position from which the CompressAI layout's bands follow (8 bytes
    a float64 activation), as taco.compress passes them to band_rows."""
    model = taco.create_model("elic-tiny", seed=0, layout="compressai")
    seen: list[tuple[int, int, int]] = []
    original = fast_codec.band_rows

    def spy(h: int, w: int, per_position: int) -> int:
        seen.append((h, w, per_position))
        return original(h, w, per_position)

    monkeypatch.setattr(fast_codec, "band_rows", spy)
    taco.compress(_photo(64, 64), None, model)
    assert seen == [(4, 4, 8 * (3 * (32 + 2 * 16) + 32 + 3 * 32))]


def test_supports_checks_the_gaussian_chunks():
    """F1: a CompressAI composition whose Gaussian conditional reads other parameter chunks than
    scales and means is not one the fast path codes."""
    model = taco.create_model("elic-tiny", seed=0, layout="compressai")
    codec = model.latent_codec
    assert fast_codec.supports(codec)
    codec.latent_codec["y"].latent_codec["y0"].latent_codec["y"].chunks = ("scales",)
    assert not fast_codec.supports(codec)
    with pytest.raises(TypeError, match="which taco cannot code"):
        fast_codec.compress_latent(codec, torch.zeros(1, 32, 4, 4))


def test_fast_decompress_clamps_x_hat(tiny):
    """F3: fast_codec.decompress's x_hat is in [0, 1] (a random model's synthesis is not)."""
    out = fast_codec.compress(tiny, torch.rand(1, 3, 64, 64))
    x_hat = fast_codec.decompress(tiny, out["strings"], out["shape"])["x_hat"]
    assert x_hat.min() >= 0 and x_hat.max() <= 1
    assert (x_hat == 0).any()  # the synthesis had values below 0 (clamped)
