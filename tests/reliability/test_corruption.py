"""Silent corruption and the decoder's memory safety (issues 7 and 17).

- Every single-bit flip of a real file gives :class:`TacoFormatError`: the CRC-32 covers the
  header as well as the payload (format versions 2 and 3), so no flip decodes to a picture.
- Each rANS string (a chunk of the format-3 stream, or a version-2 payload) is checked before
  the C++ decoder sees it (size, initial state), also behind a valid CRC.
- The padding taco appends to each chunk (``taco.bitstream.rans.rans_overread_bound``) covers every word
  CompressAI's C++ decoder can read, checked against an exact Python model of its loop, and a
  chunk's parts decoded one ``decode_stream`` call each read what one call would.
"""

from __future__ import annotations

import bisect
import sys

import numpy as np
import pytest
import torch
from compressai import ans
from compressai.entropy_models import EntropyBottleneck, GaussianConditional
from hypothesis import HealthCheck, given, settings, strategies as st

import taco
from taco.bitstream import TacoFormatError, unpack
from taco.bitstream.rans import check_rans_string, rans_overread_bound
from taco.codec import coding_codec


def flip(data: bytes, bit: int) -> bytes:
    b = bytearray(data)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


def bit_flip_outcomes(data: bytes, model) -> dict[str, int]:  # noqa: ANN001
    """Decode every single-bit flip of ``data``; count the outcomes by kind."""
    outcomes = {"TacoFormatError": 0, "image": 0}
    for bit in range(8 * len(data)):
        try:
            taco.decompress(flip(data, bit), model, max_pixels=1 << 22)
            outcomes["image"] += 1
        except TacoFormatError:
            outcomes["TacoFormatError"] += 1
    return outcomes


@pytest.mark.timeout(600)
@pytest.mark.parametrize("seed_index", [0, 3], ids=["elic-tiny-64x48", "taco-tiny-64x64"])
def test_every_single_bit_flip(corpus, seed_index):
    """Header (magic, version, model code, fingerprint, size, mode), CRC and payload: always an
    error, never a picture."""
    data = corpus.seeds[seed_index]
    assert bit_flip_outcomes(data, corpus.model_for(data)) == {
        "TacoFormatError": 8 * len(data), "image": 0}


def test_header_checksum(corpus):
    data = corpus.seeds[0]
    for bit in range(8 * unpack(data).header_bytes):
        with pytest.raises(TacoFormatError):
            unpack(flip(data, bit))


@pytest.mark.parametrize("payload,match", [
    (b"", "0 bytes"), (b"\x00" * 4, "4 bytes"), (b"\x80" * 9, "9 bytes"),
    (bytes(8), "invalid rANS state"),
])
@pytest.mark.parametrize("version", [2, 3])
def test_invalid_streams_behind_a_valid_crc(corpus, fuzz, payload, match, version):
    f = corpus.fields[0] if version == 3 else fuzz.as_version_2(corpus.fields[0])
    with pytest.raises(TacoFormatError, match=match):
        taco.decompress(f.assemble(payload), corpus.elic)


@pytest.mark.parametrize("string,match", [
    (b"", "0 bytes"), (b"\x00" * 4, "4 bytes"), (b"\x80" * 9, "9 bytes"),
    (bytes(8), "invalid rANS state"),  # state 0: the decoder would read one word per symbol
    ((1 << 31) - 1, "invalid rANS state"), (1 << 63, "invalid rANS state"),
])
def test_rans_strings_are_checked_before_the_decoder_sees_them(string, match):
    if isinstance(string, int):
        string = string.to_bytes(8, sys.byteorder)
    with pytest.raises(TacoFormatError, match=match):
        check_rans_string(string)


def test_every_string_the_encoder_writes_passes_the_checks(corpus):
    for f in corpus.fields:  # every chunk of every seed (1 to 7 chunks), versions 3 and 2
        for chunk in f.chunks:
            check_rans_string(chunk)


def test_the_stream_decoder_decodes_no_more_than_it_padded_for(corpus):
    """The chunks and their padding are sized for the symbol count declared up front: no call
    may go beyond it. (2c - 1 symbols: the seed's 192-byte string is no longer than the encoder
    writes for them, max_string_bytes.)"""
    from compressai.entropy_models import EntropyBottleneck

    from taco.bitstream.rans import StreamDecoder

    eb = next(m for m in coding_codec(corpus.elic).modules() if isinstance(m, EntropyBottleneck))
    c = eb._quantized_cdf.shape[0]
    indexes = torch.arange(c, dtype=torch.int32).reshape(1, c, 1, 1)
    dec = StreamDecoder([unpack(corpus.seeds[0]).payload], 2 * c - 1)
    dec.decode(eb, indexes)
    assert dec.symbols_left == c - 1
    with pytest.raises(ValueError, match="more symbols"):
        dec.decode(eb, indexes)


# --------------------------------------------------------------------------- the over-read bound


def rans_decode_reads(data: bytes, indexes, cdfs, lengths):  # noqa: ANN001
    """Exact model of ``RansDecoder.decode_with_indexes`` (CompressAI 1.2.x, rans_interface.cpp):
    returns (symbols before offsets, 32-bit words read); words past the end read as zero."""
    words = np.frombuffer(data[: len(data) // 4 * 4], dtype="<u4").tolist()
    pos = 0

    def read() -> int:
        nonlocal pos
        pos += 1
        return words[pos - 1] if pos - 1 < len(words) else 0

    x = read() | read() << 32
    out = []
    for i in indexes:
        cdf, n = cdfs[i], lengths[i]
        cum = x & 0xFFFF
        s = bisect.bisect_right(cdf, cum, 0, n) - 1
        x = (cdf[s + 1] - cdf[s]) * (x >> 16) + cum - cdf[s]
        if x < 1 << 31:
            x = (x << 32) | read()
        if s == n - 2:  # bypass mode: 4-bit reads
            def bits() -> int:
                nonlocal x
                v, x = x & 15, x >> 4
                if x < 1 << 31:
                    x = (x << 32) | read()
                return v
            v = bits()
            count = v
            while v == 15:
                v = bits()
                count += v
            for _ in range(count):
                bits()
        out.append(s)
    return out, pos


def coder_tables(model, kind):  # noqa: ANN001
    em = next(m for m in coding_codec(model).modules() if isinstance(m, kind))
    return (em._quantized_cdf.tolist(), em._cdf_length.reshape(-1).tolist(),
            em._offset.reshape(-1).tolist())


@pytest.fixture(scope="module")
def tables(corpus):
    return {k.__name__: coder_tables(corpus.elic, k) for k in (GaussianConditional, EntropyBottleneck)}


@pytest.mark.parametrize("kind", ["GaussianConditional", "EntropyBottleneck"])
def test_the_model_of_the_decoder_is_exact_on_valid_strings(tables, kind):
    cdfs, lengths, offsets = tables[kind]
    rng = np.random.default_rng(0)
    indexes = rng.integers(0, len(cdfs), 3000).tolist()
    symbols = [int(v) for v in rng.normal(0, 3, 3000).round()]  # some beyond the table: bypass
    string = ans.RansEncoder().encode_with_indexes(symbols, indexes, cdfs, lengths, offsets)
    decoded = ans.RansDecoder().decode_with_indexes(string, indexes, cdfs, lengths, offsets)
    model_symbols, words = rans_decode_reads(string, indexes, cdfs, lengths)
    assert decoded == symbols
    assert words == len(string) // 4  # a valid string is read exactly to its end
    for s, v, i in zip(model_symbols, symbols, indexes, strict=True):
        value, bypass = v - offsets[i], lengths[i] - 2  # out-of-table values: the bypass symbol
        assert s == (value if 0 <= value < bypass else bypass)


@pytest.mark.timeout(300)
@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["GaussianConditional", "EntropyBottleneck"]),
       state=st.integers(1 << 31, (1 << 63) - 1),
       body=st.one_of(st.binary(max_size=256), st.sampled_from([b"\xff" * 512, b"\xf0" * 64, b""])),
       n=st.integers(1, 1500), seed=st.integers(0, 2**16))
def test_the_padding_covers_every_word_the_decoder_reads(tables, kind, state, body, n, seed):
    """Adversarial strings (long runs of ones make the longest bypass reads): the words read past
    the end stay within ``rans_overread_bound``, and the real C++ decoder reads no further than
    the model says (its output does not depend on anything beyond)."""
    cdfs, lengths, offsets = tables[kind]
    string = state.to_bytes(8, sys.byteorder) + body + bytes(-len(body) % 4)
    indexes = np.random.default_rng(seed).integers(0, len(cdfs), n).tolist()
    _, words = rans_decode_reads(string, indexes, cdfs, lengths)
    over = 4 * max(0, words - len(string) // 4)
    assert over <= rans_overread_bound(n, len(string))
    dec = ans.RansDecoder()
    canaries = [dec.decode_with_indexes(string + bytes(over) + fill * 4096, indexes, cdfs, lengths,
                                        offsets) for fill in (b"\x00", b"\xff", b"\x5a")]
    assert canaries[0] == canaries[1] == canaries[2]


@pytest.mark.timeout(300)
@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(state=st.integers(1 << 31, (1 << 63) - 1),
       body=st.one_of(st.binary(max_size=256), st.sampled_from([b"\xff" * 512, b""])),
       cuts=st.lists(st.integers(0, 1500), max_size=6), seed=st.integers(0, 2**16))
def test_decoding_in_parts_reads_what_one_call_reads(tables, state, body, cuts, seed):
    """The one stream is decoded part by part (``set_stream`` once, ``decode_stream`` per part,
    z with the bottleneck's tables, y with the Gaussian's): the same loop on the same state and
    pointer as one ``decode_with_indexes`` call, so ``rans_overread_bound`` of the total symbol
    count covers it. Checked on adversarial strings, with canaries behind the bound."""
    rng = np.random.default_rng(seed)
    n = 1500
    bounds = [0, *sorted(cuts), n]
    parts = [("EntropyBottleneck" if k == 0 else "GaussianConditional", a, b)
             for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))]
    string = state.to_bytes(8, sys.byteorder) + body + bytes(-len(body) % 4)
    idx = {k: rng.integers(0, len(tables[k][0]), n).tolist() for k in tables}
    # the exact model, one call over the concatenated parts with each part's tables
    cdfs, lengths = [], []
    all_indexes = []
    for kind, a, b in parts:
        c, ln, _ = tables[kind]
        all_indexes += [len(cdfs) + i for i in idx[kind][a:b]]
        cdfs, lengths = cdfs + c, lengths + ln
    _, words = rans_decode_reads(string, all_indexes, cdfs, lengths)
    over = 4 * max(0, words - len(string) // 4)
    assert over <= rans_overread_bound(n, len(string))
    outs = []
    for fill in (b"\x00", b"\xff", b"\x5a"):
        dec = ans.RansDecoder()
        dec.set_stream(string + bytes(over) + fill * 4096)
        outs.append([dec.decode_stream(idx[kind][a:b], *tables[kind]) for kind, a, b in parts])
    assert outs[0] == outs[1] == outs[2]


def test_corrupt_entropy_tables_are_refused():
    """A checkpoint whose CDF lengths are 1 made the C++ encoder divide by zero (SIGFPE)."""
    from taco.models import CheckpointError, create_model

    model = create_model("elic-tiny", seed=0)
    gc = next(m for m in model.modules() if isinstance(m, GaussianConditional))
    with torch.no_grad():
        gc._cdf_length.fill_(1)
    with pytest.raises(CheckpointError, match="entropy-coder tables"):
        taco.compress(torch.rand(3, 16, 16), None, model)


@pytest.mark.parametrize(("where", "offset"), [("bottleneck", -(1 << 30)), ("bottleneck", 1),
                                                ("gaussian", -(1 << 30)), ("gaussian", 5)])
def test_entropy_offsets_outside_their_cdfs_are_refused(tmp_path, where, offset):
    """An entropy bottleneck's _offset of -2^30 (the rest of the checkpoint valid) loaded, then
    made taco compress spin for ever inside CompressAI's escape coding, deaf to SIGTERM (the
    shifted symbols pass int32). An offset must lie in [-(cdf_length - 3), 0], as update() makes
    it: refused at load, with the file's name."""
    from compressai.entropy_models import EntropyBottleneck

    from taco.models import CheckpointError, create_model, load_checkpoint, save_checkpoint

    model = create_model("elic-tiny", seed=0)
    kind = EntropyBottleneck if where == "bottleneck" else GaussianConditional
    em = next(m for m in model.modules() if isinstance(m, kind))
    path = save_checkpoint(model, tmp_path / "fine.safetensors")
    load_checkpoint(path)  # the tables update() built pass
    with torch.no_grad():
        em._offset.reshape(-1)[0] = offset
    with pytest.raises(CheckpointError, match="entropy-coder tables .* are malformed"):
        taco.compress(torch.rand(3, 16, 16), None, model)
    if where == "gaussian":  # checkpoints hold no Gaussian tables: rebuilt from the scale table
        return
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(path), "pt") as f:
        tensors, metadata = {k: f.get_tensor(k) for k in f.keys()}, f.metadata()  # noqa: SIM118
    name = next(k for k in tensors if k.endswith("entropy_bottleneck._offset"))
    tensors[name].reshape(-1)[0] = offset
    bad = tmp_path / "bad.safetensors"
    save_file(tensors, bad, metadata)
    with pytest.raises(CheckpointError, match=f"^{bad}: the model's entropy-coder tables"):
        load_checkpoint(bad)
