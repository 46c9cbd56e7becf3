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
