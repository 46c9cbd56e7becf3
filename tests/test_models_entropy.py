"""taco.models.entropy: the bounds the C++ coder relies on (a scale above the table gets its last
index), symbols rounded as CompressAI rounds them, the reference layout's bands, and the checks of
latent shapes and streams read from a file."""

from __future__ import annotations

import pytest
import torch

import taco
import taco.codec
from taco.models.entropy import check_latent_shapes, check_streams, quantize_symbols, scale_indexes


def test_scales_above_the_table_get_the_last_table_index():
    """A scale above the scale table's last entry gets the index of the last of its CDFs
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
    """Symbols are torch.round's (ties to even, as CompressAI's), not floor(x + 0.5)."""
    got = quantize_symbols(torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5]), torch.zeros(5)).tolist()
    assert got == [0, 2, 2, 0, -2]


def test_reference_codec_band_rows_are_pinned():
    """The reference layout's entropy-parameter bands (part of what the coder computes: large
    images' bytes follow them)."""
    codec = taco.create_model("elic-small", seed=0).latent_codec
    assert type(codec).__name__ == "ReferenceLatentCodec"
    assert codec.band_rows(512, 512) == 52
    assert codec.band_rows(1024, 2048) == 12
    assert codec.band_rows(64, 64) == 64  # a latent that fits is one band


def test_latent_shapes_are_checked_in_full():
    """A y latent whose height or width does not fit z's is refused, not only its channels."""
    check_latent_shapes({"hyper": (2, 3), "y": [(8, 8, 12), (8, 8, 12)]}, [8, 8])
    for bad in ([(8, 8, 12), (8, 8, 13)], [(8, 9, 12), (8, 8, 12)]):
        with pytest.raises(ValueError, match="do not fit this codec"):
            check_latent_shapes({"hyper": (2, 3), "y": bad}, [8, 8])


def test_streams_without_an_image_are_refused():
    """E7: [[]] (no stream at all) is not [[stream per image]]."""
    check_streams([[b"x"]])
    with pytest.raises(ValueError, match="stream per image"):
        check_streams([[]])
