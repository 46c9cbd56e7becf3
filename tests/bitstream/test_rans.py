"""The chunked rANS stream (format version 3): framing, round trips across chunk boundaries, the
size proof, the per-chunk padding, and version-2 (unchunked) streams."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from compressai import ans
from compressai.entropy_models import EntropyBottleneck, GaussianConditional

from taco.bitstream import TacoFormatError, rans
from taco.bitstream.rans import (
    CHUNK_SYMBOLS,
    MAX_UNCHUNKED_SYMBOLS,
    StreamDecoder,
    StreamEncoder,
    UnchunkedStream,
    join_stream,
    num_chunks,
    rans_overread_bound,
    split_stream,
)
from taco.codec import coding_codec


def state(value: int = 1 << 40) -> bytes:
    return value.to_bytes(8, sys.byteorder)


def test_chunk_counts():
    assert CHUNK_SYMBOLS == 1 << 16
    assert [num_chunks(s) for s in (1, CHUNK_SYMBOLS, CHUNK_SYMBOLS + 1, 10 * CHUNK_SYMBOLS)] == [1, 1, 2, 10]


def test_framing_round_trip():
    strings = [state() + bytes(4 * k) for k in (0, 1, 300, 40)]  # 8 .. 1208 bytes: 1- and 2-byte varints
    stream = join_stream(strings)
    assert stream[:10] == b"\x02" + strings[0] + b"\x03"  # lengths in 32-bit words
    assert stream[22:24] == bytes([302 & 0x7F | 0x80, 302 >> 7])
    assert len(stream) == sum(map(len, strings)) + 1 + 1 + 2  # the last string has no length
    got = split_stream(stream, 3 * CHUNK_SYMBOLS + 40)  # the last string: at most 268 bytes for 40
    assert [bytes(c) for c in got] == strings
    assert join_stream([strings[0]]) == strings[0]  # one chunk: the string itself (as in version 2)
    with pytest.raises(ValueError):
        join_stream([b"abc", b"x" * 8])
    with pytest.raises(ValueError):
        join_stream([])


@pytest.mark.parametrize("stream,symbols,match", [
    (state(), 2 * CHUNK_SYMBOLS, "needs 131,072 coded symbols in 2 rANS chunks .* at least 17 bytes; the stream has 8"),
    (b"\x05" + state() + state(), 2 * CHUNK_SYMBOLS, "chunk 1 of 2 needs 20 bytes, 16 are left"),
    (b"\xff" * 5 + state() + state(), 2 * CHUNK_SYMBOLS, "not a valid varint"),
    (b"\x02" + state() + bytes(8), 2 * CHUNK_SYMBOLS, "invalid rANS state"),
    (b"\x02" + bytes(8) + state(), 2 * CHUNK_SYMBOLS, "invalid rANS state"),
    (b"\x02" + state() + state() + b"\x00", 2 * CHUNK_SYMBOLS, "multiples of 4"),
    (state()[:7], 5, "string of 7 bytes"),
])
def test_malformed_streams(stream, symbols, match):
    with pytest.raises(TacoFormatError, match=match):
        split_stream(stream, symbols)
    with pytest.raises(TacoFormatError):
        StreamDecoder([stream], symbols)


def test_a_stream_must_carry_the_chunks_its_size_needs():
    """The 9984x9984 case: 38.5 M symbols need 589 chunks (>= 5,300 bytes), refused at once."""
    with pytest.raises(TacoFormatError, match="589 rANS chunks"):
        StreamDecoder([state() + bytes(88)], 38_548_224)


@pytest.fixture(scope="module")
def ems(tiny_elic):
    codec = coding_codec(tiny_elic)
    return (next(m for m in codec.modules() if isinstance(m, EntropyBottleneck)),
            next(m for m in codec.modules() if isinstance(m, GaussianConditional)))


def parts(ems, sizes, batch=2, seed=0):
    """Random (entropy model, symbols, indexes) parts, some symbols out of the tables (bypass)."""
    eb, gc = ems
    g = torch.Generator().manual_seed(seed)
    out = []
    for k, n in enumerate(sizes):
        em = eb if k == 0 else gc
        rows = em._quantized_cdf.shape[0]
        idx = torch.randint(rows, (batch, n), generator=g, dtype=torch.int32)
        sym = (torch.randn(batch, n, generator=g) * (3 if k else 8)).round().int()
        out.append((em, sym, idx))
    return out


def one_string(ps):
    """The first image's symbols of ``ps`` as one rANS string (one BufferedRansEncoder for every
    part): what format version 2 wrote."""
    enc = ans.BufferedRansEncoder()
    for em, sym, idx in ps:
        t = rans.coder_tables(em)
        enc.encode_with_indexes(sym[0].tolist(), idx[0].tolist(), t.cdfs, t.lengths, t.offsets)
    return enc.flush()


@pytest.mark.parametrize("chunk", [8, 100, 1 << 16])  # 8: the last chunk holds 6, the fewest
def test_round_trip_across_chunk_boundaries(ems, monkeypatch, chunk):
    """Parts of every size straddling chunk boundaries, two images: the decoder gives back every
    symbol, and each stream has exactly ceil(S / chunk) chunks."""
    monkeypatch.setattr(rans, "CHUNK_SYMBOLS", chunk)
    ps = parts(ems, [13, 1, 99, 250, 7, 100, 64])
    total = sum(sym.shape[1] for _, sym, _ in ps)
    enc = StreamEncoder()
    for em, sym, idx in ps:
        enc.encode(em, sym, idx)
    streams = enc.flush()
    assert len(streams) == 2
    for s in streams:
        assert len(split_stream(s, total)) == -(-total // chunk)
    dec = StreamDecoder(streams, total)
    for em, sym, idx in ps:
        assert torch.equal(dec.decode(em, idx), sym)
    assert dec.symbols_left == 0


def test_a_single_chunk_stream_is_the_version_2_string(ems):
    """Up to CHUNK_SYMBOLS symbols the stream is one rANS string with no framing: exactly what
    format version 2 wrote (one BufferedRansEncoder for every part)."""
    ps = parts(ems, [20, 300, 300], batch=1)
    enc = StreamEncoder()
    for em, sym, idx in ps:
        enc.encode(em, sym, idx)
    assert enc.flush()[0] == one_string(ps)


def test_each_chunk_is_padded_for_its_own_symbols(ems, monkeypatch):
    """The decoder's buffer is one chunk plus its over-read bound, never the whole stream's."""
    monkeypatch.setattr(rans, "CHUNK_SYMBOLS", 100)
    ps = parts(ems, [50, 400, 333], batch=1)
    enc = StreamEncoder()
    for em, sym, idx in ps:
        enc.encode(em, sym, idx)
    stream = enc.flush()[0]
    chunks = split_stream(stream, 783)
    sizes = []
    real = rans.bounded_string

    def recording(string, num_symbols):
        out = real(string, num_symbols)
        sizes.append((len(string), num_symbols, len(out)))
        return out

    monkeypatch.setattr(rans, "bounded_string", recording)
    dec = StreamDecoder([stream], 783)
    for em, sym, idx in ps:
        assert torch.equal(dec.decode(em, idx), sym)
    assert [n for _, n, _ in sizes] == [100] * 7 + [83]
    assert [n for n, _, _ in sizes] == [len(c) for c in chunks]
    assert all(out == n + rans_overread_bound(s, n) for n, s, out in sizes)


def test_decoding_stops_at_the_declared_symbols(ems):
    eb, _ = ems
    c = eb._quantized_cdf.shape[0]
    idx = torch.arange(c, dtype=torch.int32).reshape(1, c)
    enc = StreamEncoder()
    enc.encode(eb, torch.zeros(1, c, dtype=torch.int32), idx)
    dec = StreamDecoder(enc.flush(), c)
    dec.decode(eb, idx)
    with pytest.raises(ValueError, match="more symbols"):
        dec.decode(eb, idx[:, :1])


def test_unchunked_streams(ems):
    """Version-2 payloads: one string for every symbol, decoded as one chunk up to a limit."""
    ps = parts(ems, [10, 500], batch=1)
    string = one_string(ps)
    dec = StreamDecoder([UnchunkedStream(string)], 510)
    for em, sym, idx in ps:
        assert torch.equal(dec.decode(em, idx), sym)
    with pytest.raises(TacoFormatError, match="at most 1,048,576 symbols in one string"):
        StreamDecoder([UnchunkedStream(string)], MAX_UNCHUNKED_SYMBOLS + 1)
    with pytest.raises(TacoFormatError, match="invalid rANS state"):
        StreamDecoder([UnchunkedStream(bytes(8))], 10)


def test_garbage_chunks_decode_within_their_padding(ems, monkeypatch):
    """Chunks of ones (the longest bypass runs) and random words: decoding a chunk reads only
    its own padded copy, so the symbols do not depend on anything else in memory. Garbage is
    refused once its first chunk is decoded (not what the encoder writes); without that check
    (the decoder's memory bound must not rest on it) every chunk decodes, the same twice."""
    eb, gc = ems
    rng = np.random.default_rng(1)
    n = 3 * CHUNK_SYMBOLS + 17
    strings = [state(int(rng.integers(1 << 31, 1 << 62))) + rng.bytes(4 * int(rng.integers(0, 50)))
               for _ in range(3)] + [state() + b"\xff" * 64]
    stream = join_stream(strings)
    idx = torch.from_numpy(rng.integers(0, gc._quantized_cdf.shape[0], (1, n), dtype=np.int32))
    with pytest.raises(TacoFormatError, match="rANS chunk 1 of 4 is not what the encoder writes"):
        StreamDecoder([stream], n).decode(gc, idx)
    monkeypatch.setattr(rans, "check_chunk", lambda *args: None)
    monkeypatch.setattr(rans, "MAX_SYMBOL", 1 << 31)
    outs = [StreamDecoder([stream], n).decode(gc, idx) for _ in range(2)]
    assert torch.equal(outs[0], outs[1])


def encoded_stream(ems, monkeypatch, sizes=(50, 400, 333), chunk=100):
    """One image's stream of random parts in chunks of ``chunk`` symbols, and the parts."""
    monkeypatch.setattr(rans, "CHUNK_SYMBOLS", chunk)
    ps = parts(ems, list(sizes), batch=1)
    enc = StreamEncoder()
    for em, sym, idx in ps:
        enc.encode(em, sym, idx)
    return enc.flush()[0], ps


def decode_all(stream, ps):
    dec = StreamDecoder([stream], sum(sym.shape[1] for _, sym, _ in ps))
    for em, sym, idx in ps:
        assert torch.equal(dec.decode(em, idx), sym)


def test_bytes_the_decoder_does_not_read_are_refused(ems, monkeypatch):
    """rANS reads forward and never says how far: words after those a chunk's symbols need (at
    the end of the file, or inside a chunk whose length says more) would be ignored. Each chunk
    is re-encoded once decoded and must come out byte for byte."""
    stream, ps = encoded_stream(ems, monkeypatch)
    decode_all(stream, ps)  # as written: every chunk re-encodes to itself
    chunks = [bytes(c) for c in split_stream(stream, 783)]
    assert len(chunks) == 8
    with pytest.raises(TacoFormatError, match="rANS chunk 8 of 8 is not what the encoder writes"):
        decode_all(stream + bytes(4), ps)
    with pytest.raises(TacoFormatError, match="multiples of 4"):
        decode_all(stream + b"\x01", ps)
    padded = join_stream([chunks[0], chunks[1] + b"\x01\x02\x03\x04", *chunks[2:]])
    assert [bytes(c) for c in split_stream(padded, 783)][1] == chunks[1] + b"\x01\x02\x03\x04"
    with pytest.raises(TacoFormatError, match="rANS chunk 2 of 8 is not what the encoder writes"):
        decode_all(padded, ps)


def test_a_version_2_string_with_trailing_bytes_is_refused(ems):
    ps = parts(ems, [10, 500], batch=1)
    string = one_string(ps)
    for data, ok in ((string, True), (string + bytes(8), False)):
        dec = StreamDecoder([UnchunkedStream(data)], 510)
        em, sym, idx = ps[0]
        assert torch.equal(dec.decode(em, idx), sym)  # the check comes at the string's end
        em, sym, idx = ps[1]
        if ok:
            assert torch.equal(dec.decode(em, idx), sym)
        else:
            with pytest.raises(TacoFormatError, match=r"the rANS stream \(\.taco format version 2, unchunked\) is not"):
                dec.decode(em, idx)


def test_chunks_too_short_for_compressai_encoder_are_not_re_encoded(ems):
    _, gc = ems
    t = rans.coder_tables(gc)
    few = [([0] * (rans.MIN_REENCODED_SYMBOLS - 1), [0] * (rans.MIN_REENCODED_SYMBOLS - 1), t)]
    rans.check_chunk(b"not a string at all", few, "chunk 1 of 1")  # nothing to compare: passes
    assert rans.MIN_REENCODED_SYMBOLS >= rans.MIN_STRING_SYMBOLS >= 6  # E/2 + 1 + 2 words fit E


@pytest.mark.parametrize("beyond", [rans.MAX_SYMBOL + 1, -(rans.MAX_SYMBOL + 1)])
def test_symbols_beyond_what_the_encoder_writes_are_refused(ems, beyond):
    """The encoder refuses symbols beyond ±MAX_SYMBOL (check_symbols); a stream that decodes to
    one, either side, was not written by it (and re-encoding it could loop in CompressAI's escape
    code)."""
    _, gc = ems
    t = rans.coder_tables(gc)
    enc = ans.BufferedRansEncoder()
    enc.encode_with_indexes([beyond] + [0] * 9, [0] * 10, t.cdfs, t.lengths, t.offsets)
    with pytest.raises(TacoFormatError, match="a symbol beyond what the encoder writes"):
        StreamDecoder([enc.flush()], 10).decode(gc, torch.zeros(1, 10, dtype=torch.int32))


def test_chunk_lengths_are_shortest_varints():
    """join_stream writes each length in its shortest form; a redundant zero byte is refused."""
    assert join_stream([state(), state()])[:1] == b"\x02"
    with pytest.raises(TacoFormatError, match="length of chunk 1 is a varint with a redundant zero"):
        split_stream(b"\x82\x00" + state() + state(), 2 * CHUNK_SYMBOLS)


def test_a_decoder_with_other_tables_is_refused(ems, monkeypatch):
    """Decoding a valid stream with other CDF indexes than the encoder's (a desynchronised
    decoder) gives other symbols, soon escapes beyond any real latent; and even a desync in the
    last symbols only leaves a state the encoder did not start from: an error, not a picture."""
    stream, ps = encoded_stream(ems, monkeypatch, sizes=(50, 400), chunk=1 << 16)
    rows = ps[1][0]._quantized_cdf.shape[0]
    for last, match in ((400, r"decodes to a symbol beyond what the encoder writes \(±[\d,]+\), or the "
                              "model computes other tables here than where the file was made"),
                        (2, "is not what the encoder writes")):
        dec = StreamDecoder([stream], 450)
        em, _, idx = ps[0]
        dec.decode(em, idx)
        em, _, idx = ps[1]
        other = idx.clone()
        other[:, -last:] = (idx[:, -last:] + rows // 2) % rows
        with pytest.raises(TacoFormatError, match=f"rANS chunk 1 of 1 {match}"):
            dec.decode(em, other)


def test_the_encoder_refuses_a_string_too_short_for_compressai_instead_of_corrupting_memory(
        ems, monkeypatch):
    """CompressAI's encoder overran its buffer ending a string of fewer than 6 entries ("double
    free or corruption" in taco.compress, with a last chunk of 1 symbol): only a model whose N
    is not a multiple of 8 ends a chunk that short. Refused before the encoder is called."""
    monkeypatch.setattr(rans, "CHUNK_SYMBOLS", 100)
    for total, ok in ((105, False), (106, True), (100, True)):
        enc = StreamEncoder()
        for em, sym, idx in parts(ems, [total], batch=1):
            enc.encode(em, sym, idx)
        if ok:
            assert len(split_stream(enc.flush()[0], total)) == -(-total // 100)
        else:
            with pytest.raises(ValueError, match="chunk of 5 symbols, fewer than the 6"):
                enc.flush()
