"""taco.bitstream.rans: the bounds of what the rANS coder takes and what a .taco file's rANS strings
and streams may hold (latent symbols, string lengths and initial states, the over-read bound, a
stream too short for its chunks)."""

from __future__ import annotations

import re
import sys

import pytest
import torch

from taco.bitstream import TacoFormatError
from taco.bitstream.rans import (
    CHUNK_SYMBOLS,
    MAX_SYMBOL,
    SymbolRangeError,
    check_rans_string,
    check_string_length,
    check_symbols,
    max_string_bytes,
    rans_overread_bound,
    split_stream,
)


@pytest.mark.parametrize("sign", [1, -1])
def test_symbols_beyond_max_symbol_either_way_are_refused(sign):
    check_symbols(torch.tensor([0, sign * MAX_SYMBOL], dtype=torch.int32))
    for beyond in (MAX_SYMBOL + 1, 1 << 28):
        shown = re.escape(f"a latent symbol of {sign * beyond:g} is beyond")
        with pytest.raises(SymbolRangeError, match=shown):
            check_symbols(torch.tensor([0, sign * beyond], dtype=torch.int32))


def state(value: int, nbytes: int = 8) -> bytes:
    """A rANS string of ``nbytes`` starting with the state ``value`` (two native 32-bit words)."""
    words = (value & 0xFFFFFFFF).to_bytes(4, sys.byteorder) + (value >> 32).to_bytes(4, sys.byteorder)
    return words[:nbytes] + b"\0" * (nbytes - 8)


def test_a_rans_string_of_4_bytes_is_refused():
    check_rans_string(state(1 << 31))
    with pytest.raises(TacoFormatError, match=r"string of 4 bytes \(rANS strings are multiples of 4 "
                                              r"bytes, at least 8\)"):
        check_rans_string(state(1 << 31, 4))


@pytest.mark.parametrize("value", [1 << 30, (1 << 31) - 1])
def test_an_initial_state_below_2_to_31_is_refused(value):
    with pytest.raises(TacoFormatError, match="starts with an invalid rANS state"):
        check_rans_string(state(value))


@pytest.mark.parametrize(("symbols", "nbytes"), [(1, 8), (6, 8), (65536, 8), (65536, 425_992),
                                                 (1 << 20, 1 << 12)])
def test_the_overread_bound_is_at_least_the_documented_one(symbols, nbytes):
    # rans_overread_bound's docstring: <= 3.04 + 34.5 S + 15 W words, W = num_bytes / 4
    documented = 4 * (3.04 + 34.5 * symbols + 15 * nbytes / 4)
    assert rans_overread_bound(symbols, nbytes) >= documented
    assert rans_overread_bound(65536, 8) == 9_175_184


def test_a_string_longer_than_the_encoder_writes_is_refused():
    assert max_string_bytes(100) == 4 * (100 * 52 // 32) + 8 == 656
    check_string_length(656, 100, "a chunk")
    for nbytes in (660, 664):
        with pytest.raises(TacoFormatError, match=rf"a chunk is {nbytes} bytes, longer than the 656"):
            check_string_length(nbytes, 100, "a chunk")


def test_a_stream_too_short_for_its_chunks_names_the_bytes_needed():
    n = 3  # chunks: 9 n - 1 = 26 bytes at least (two 1-byte lengths, three 8-byte strings)
    with pytest.raises(TacoFormatError, match=r"in 3 rANS chunks \(of 65,536\), at least 26 bytes; "
                                              r"the stream has 25"):
        split_stream(b"\x02" + b"\0" * 24, n * CHUNK_SYMBOLS)
