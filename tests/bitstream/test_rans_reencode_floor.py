"""check_chunk re-encodes every chunk of MIN_REENCODED_SYMBOLS symbols or more: at exactly that
many, a chunk with a byte more than the encoder writes is refused (only shorter ones are let
through unchecked). Review A: a mutant skipping chunks of exactly that many passed."""

from __future__ import annotations

import pytest
from compressai import ans
from compressai.entropy_models import GaussianConditional

from taco.bitstream import TacoFormatError
from taco.bitstream.rans import MIN_REENCODED_SYMBOLS, check_chunk, coder_tables


@pytest.fixture(scope="module")
def tables():
    gc = GaussianConditional([0.11, 0.5, 1.0, 2.0, 4.0, 8.0])
    gc.update()
    return coder_tables(gc)


@pytest.mark.parametrize("n", [MIN_REENCODED_SYMBOLS, MIN_REENCODED_SYMBOLS + 1])
def test_a_chunk_of_the_fewest_symbols_checked_is_re_encoded(tables, n):
    values, indexes = [(-1) ** k * (k % 3) for k in range(n)], [k % 6 for k in range(n)]
    enc = ans.BufferedRansEncoder()
    enc.encode_with_indexes(values, indexes, tables.cdfs, tables.lengths, tables.offsets)
    chunk = enc.flush()
    parts = [(values, indexes, tables)]
    check_chunk(chunk, parts, "chunk 1 of 1")  # what the encoder writes: passes
    with pytest.raises(TacoFormatError, match="chunk 1 of 1 is not what the encoder writes"):
        check_chunk(chunk + bytes(4), parts, "chunk 1 of 1")
    # split over two decoding calls, the symbols of the chunk are counted together
    half = n // 2
    split = [(values[:half], indexes[:half], tables), (values[half:], indexes[half:], tables)]
    with pytest.raises(TacoFormatError, match="is not what the encoder writes"):
        check_chunk(chunk + bytes(4), split, "chunk 1 of 1")
