"""A rANS chunk longer than CompressAI's encoder writes for its symbols is refused before it is
decoded (``taco.bitstream.rans.max_string_bytes``): decoding pads a chunk with 16 zero bytes for
each of its bytes, so one oversized chunk (the file still under its 64 bits a pixel) made the
decoder's memory grow with the file -- 2.3 GB for a 32 MiB file, 4.4 GB for 72 MiB.

The bound is the encoder's: the most it writes for a symbol (``MAX_SYMBOL_BITS``) is reached by
escapes of frequency 1, and such a chunk still decodes.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch
from compressai.entropy_models import EntropyModel

from taco.bitstream import TacoFormatError
from taco.bitstream.rans import (
    CHUNK_SYMBOLS,
    MAX_SYMBOL,
    StreamDecoder,
    StreamEncoder,
    UnchunkedStream,
    bounded_string,
    join_stream,
    max_string_bytes,
    split_stream,
)

STATE = (1 << 40).to_bytes(8, sys.byteorder)  # a valid initial rANS state
MOST = max_string_bytes(CHUNK_SYMBOLS)


def escape_model(offset: int = 0) -> EntropyModel:
    """An entropy model of one CDF whose escape (bypass) symbol has frequency 1: every symbol but
    0 costs 16 bits plus its bypass groups, the most the encoder writes."""
    em = EntropyModel()
    em._quantized_cdf = torch.tensor([[0, 65535, 65536]], dtype=torch.int32)
    em._cdf_length = torch.tensor([3], dtype=torch.int32)
    em._offset = torch.tensor([offset], dtype=torch.int32)
    return em


def test_the_bound():
    assert MOST == 425_992  # 52 bits a symbol + the 8-byte final state: 426 KB
    assert max_string_bytes(1) == 4 + 8 and max_string_bytes(8) == 4 * 13 + 8


@pytest.mark.parametrize("symbol", [MAX_SYMBOL, -MAX_SYMBOL])
def test_the_costliest_chunk_the_encoder_writes_is_within_the_bound_and_decodes(symbol):
    """2^16 + 8 escapes of frequency 1 at ±MAX_SYMBOL (7 value groups, 48 bits each): chunk 1
    is 4 (48 x 2^16 / 32) + 8 bytes, within the bound, and the stream decodes back."""
    em = escape_model()
    total = CHUNK_SYMBOLS + 8
    symbols = torch.full((1, total), symbol, dtype=torch.int32)
    indexes = torch.zeros(1, total, dtype=torch.int32)
    enc = StreamEncoder()
    enc.encode(em, symbols, indexes)
    stream = enc.flush()[0]
    chunks = split_stream(stream, total)
    assert len(chunks[0]) == 4 * (48 * CHUNK_SYMBOLS // 32) + 8 <= MOST
    assert len(chunks[1]) <= max_string_bytes(8)
    assert torch.equal(StreamDecoder([stream], total).decode(em, indexes), symbols)


def test_a_chunk_longer_than_the_bound_is_refused_before_decoding(monkeypatch):
    """A chunk of exactly the bound passes the framing check; one word more is a TacoFormatError
    from split_stream, before anything is padded or decoded."""
    at_bound = STATE + bytes(MOST - 8)
    last = STATE + bytes(max_string_bytes(5) - 8)
    assert [len(c) for c in split_stream(join_stream([at_bound, last]), CHUNK_SYMBOLS + 5)] == [
        MOST, max_string_bytes(5)]

    def no_padding(*args):
        raise AssertionError("the chunk was padded for decoding")

    monkeypatch.setattr("taco.bitstream.rans.bounded_string", no_padding)
    too_long = join_stream([at_bound + bytes(4), last])
    message = (r"corrupt \.taco file: rANS chunk 1 of 2 is 425,996 bytes, longer than the 425,992 "
               r"CompressAI's rANS encoder writes for its 65,536 symbols")
    with pytest.raises(TacoFormatError, match=message):
        split_stream(too_long, CHUNK_SYMBOLS + 5)
    with pytest.raises(TacoFormatError, match=message):
        StreamDecoder([too_long], CHUNK_SYMBOLS + 5)
    # the last chunk, whose length is the rest of the stream, is bounded by its own symbols
    with pytest.raises(TacoFormatError, match="rANS chunk 2 of 2 is 44 bytes, longer than the 40 "):
        split_stream(join_stream([at_bound, last + bytes(4)]), CHUNK_SYMBOLS + 5)
    # a length beyond the bound is refused as such even where the file is shorter
    with pytest.raises(TacoFormatError, match="rANS chunk 1 of 2 is 4,000,000 bytes, longer"):
        split_stream(b"\xc0\x84\x3d" + at_bound + last, CHUNK_SYMBOLS + 5)


def test_a_version_2_string_longer_than_the_bound_is_refused():
    n = 1000
    StreamDecoder([UnchunkedStream(STATE + bytes(max_string_bytes(n) - 8))], n)
    with pytest.raises(TacoFormatError, match=r"corrupt \.taco file: the unchunked rANS stream "
                                              r"\(\.taco format version 2\) is 6,512 bytes"):
        StreamDecoder([UnchunkedStream(STATE + bytes(max_string_bytes(n) - 4))], n)


def test_compressai_s_own_decoding_refuses_it_too():
    """bounded_string (BoundedRansCoder: CompressAI's decompress methods) pads only strings
    within the bound."""
    assert len(bounded_string(STATE + bytes(max_string_bytes(10) - 8), 10)) > max_string_bytes(10)
    with pytest.raises(TacoFormatError, match="an entropy-coded string is 80 bytes, longer than the 72"):
        bounded_string(STATE + bytes(72), 10)


PEAK = textwrap.dedent("""
    import resource, sys, torch
    from compressai.entropy_models import EntropyModel
    from taco.bitstream import TacoFormatError
    from taco.bitstream.rans import CHUNK_SYMBOLS, StreamDecoder, join_stream
    em = EntropyModel()
    em._quantized_cdf = torch.tensor([[0, 65535, 65536]], dtype=torch.int32)
    em._cdf_length = torch.tensor([3], dtype=torch.int32)
    em._offset = torch.tensor([0], dtype=torch.int32)
    state = (1 << 40).to_bytes(8, sys.byteorder)
    stream = join_stream([state + b"\\xff" * (16 << 20), state])  # a 16 MiB first chunk
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        StreamDecoder([stream], CHUNK_SYMBOLS + 8).decode(em, torch.zeros(1, 8, dtype=torch.int32))
        print("decoded", flush=True)
    except TacoFormatError as e:
        print(e, flush=True)
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
""")


def test_an_oversized_chunk_costs_no_memory_in_proportion_to_it():
    """In a fresh process: a 16 MiB first chunk is refused with the peak RSS at most one copy of
    the stream above where it was (the padding and its copies took 843 MiB more before)."""
    run = subprocess.run([sys.executable, "-c", PEAK], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    message, grown = run.stdout.splitlines()
    assert "rANS chunk 1 of 2 is 16,777,224 bytes, longer than the 425,992" in message
    assert int(grown) < 24, f"peak RSS grew by {grown} MiB"
