"""Fuzzing the container and the decoder (issues 7 and 17), CI-sized.

The only allowed outcomes of reading a ``.taco`` file are a decoded image of the declared size
or :class:`TacoFormatError` (``taco info``: exit 0, or 2 with one line); never another exception,
a crash, a hang, or an allocation sized by the file. The CRC-32 (over the whole file) rejects
almost every edit before decoding, so most decoder cases here recompute the CRC: well-formed
containers carrying a garbage or re-framed chunked rANS stream, other header field values and
wrong image sizes. The fuzz script's own seeds are coded with small chunks
(``fuzz.FUZZ_CHUNK_SYMBOLS``): decode them through ``fuzz.check_one``.

The long run (>= 100k cases, crash-isolated) is ``scripts/fuzz_decoder.py run``; a CI-sized run of
it is in test_hostile_files.py, its figures in docs/reliability.md.
"""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import taco
from taco.bitstream import MAX_SIDE, TacoFormatError, TacoHeader, pack, unpack
from taco.cli import main as cli_main

FAST = settings(
    max_examples=1500, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: Decoding cases: a generous per-case deadline catches a hang without flaking on a busy machine.
DECODE = settings(
    max_examples=150, deadline=timedelta(seconds=20), derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
)


def read(data: bytes, corpus, fuzz) -> str:
    """unpack + decompress: "image" or "TacoFormatError"; anything else fails the test."""
    return fuzz.check_one(data, corpus, None)


# --------------------------------------------------------------------------- container


@pytest.mark.timeout(120)
@FAST
@given(st.binary(max_size=300))
def test_unpack_random_bytes(data):
    try:
        f = unpack(data)
    except TacoFormatError:
        return
    assert 1 <= f.header.height <= MAX_SIDE and 1 <= f.header.width <= MAX_SIDE
    assert f.header_bytes + f.payload_bytes == len(data)


@pytest.mark.timeout(120)
@settings(FAST, max_examples=1000)
@given(st.binary(max_size=200))
def test_unpack_random_bytes_after_a_valid_magic_and_version(tail):
    data = b"TACO" + bytes([2 + len(tail) % 2]) + tail
    try:
        f = unpack(data)
    except TacoFormatError:
        return
    assert f.header_bytes + f.payload_bytes == len(data)


@pytest.mark.timeout(300)
def test_truncation_at_every_offset(corpus, fuzz):
    for data in corpus.seeds[:4]:
        for cut in range(len(data)):
            with pytest.raises(TacoFormatError):
                unpack(data[:cut])
            assert read(data[:cut], corpus, fuzz) == "TacoFormatError"


@pytest.mark.timeout(300)
@DECODE
@given(st.data())
def test_header_fields_behind_a_valid_crc(corpus, fuzz, data):
    """Any version, model code (or inline id), quality, mode/padding byte or fingerprint, CRC
    recomputed: the header's own checks, then the model's, then the decoder."""
    f = corpus.fields[data.draw(st.integers(0, len(corpus.fields) - 1))]
    field = data.draw(st.sampled_from(["version", "model", "quality", "mode", "fingerprint", "bits"]))
    value = data.draw(st.binary(min_size=1, max_size=12))
    if field == "bits":
        b = bytearray(f.head())
        for i in data.draw(st.lists(st.integers(0, 8 * len(b) - 1), min_size=1, max_size=4)):
            b[i // 8] ^= 1 << (i % 8)
        file = fuzz.assemble(bytes(b), f.payload())
    else:
        if field == "fingerprint":
            value = (value * 8)[:8]
        elif field in ("version", "mode"):
            value = value[:1]
        elif field == "quality":
            value = value[: data.draw(st.integers(0, 2))]
        file = replace(f, **{field: value}).assemble()
    assert read(file, corpus, fuzz) in ("image", "TacoFormatError")


# --------------------------------------------------------------------------- behind the checksum


def garbage_stream(draw, original: bytes, donor: bytes) -> bytes:
    """A corrupt rANS stream; most pass taco's pre-checks so that the C++ decoder runs on them."""
    kind = draw(st.sampled_from(["random", "flips", "truncated", "extended", "ones", "state-only",
                                 "zeros", "middle", "donor"]))
    if kind == "random":
        s = draw(st.binary(min_size=0, max_size=max(8, 2 * len(original))))
    elif kind == "flips":
        b = bytearray(original)
        for i in draw(st.lists(st.integers(0, 8 * len(b) - 1), min_size=1, max_size=6)):
            b[i // 8] ^= 1 << (i % 8)
        s = bytes(b)
    elif kind == "truncated":
        s = original[: draw(st.integers(0, len(original)))]
    elif kind == "extended":
        s = original + draw(st.binary(min_size=1, max_size=64))
    elif kind == "ones":
        s = original[:8] + b"\xff" * draw(st.sampled_from([0, 4, 256, 4096]))
    elif kind == "state-only":
        s = original[:8]
    elif kind == "middle":  # a stretch overwritten: the parts before it decode as coded
        at = draw(st.integers(min(8, len(original) - 1), len(original) - 1))
        s = original[:at] + draw(st.binary(min_size=1, max_size=64)) + original[at + 64 :]
    elif kind == "donor":
        s = donor
    else:
        s = bytes(len(original))
    if draw(st.booleans()):  # make it pass the pre-checks: whole words, a valid initial state
        s = s + bytes(-len(s) % 4)
        state = draw(st.integers(1 << 31, (1 << 63) - 1))
        s = state.to_bytes(8, sys.byteorder) + s[8:]
    return s


@pytest.mark.timeout(300)
@settings(DECODE, max_examples=250)
@given(st.data())
def test_decoder_on_garbage_behind_a_valid_crc(corpus, fuzz, data):
    """Valid header and CRC, a corrupted rANS stream or chunk: the C++ decoder must neither crash
    nor hang."""
    f = corpus.fields[data.draw(st.integers(0, len(corpus.fields) - 1))]
    donor = corpus.fields[data.draw(st.integers(0, len(corpus.fields) - 1))]
    if data.draw(st.booleans()):  # the whole stream
        file = f.assemble(garbage_stream(data.draw, f.payload(), donor.payload()))
    else:  # one chunk, the framing intact
        chunks = list(f.chunks)
        i = data.draw(st.integers(0, len(chunks) - 1))
        chunks[i] = garbage_stream(data.draw, chunks[i], donor.chunks[0])
        file = replace(f, chunks=tuple(chunks)).assemble()
    if read(file, corpus, fuzz) == "image":  # and the same image twice: nothing read beyond the
        model = corpus.model_for(file)         # stream's memory (heap contents vary between calls)
        with fuzz.fuzz_chunk_size():
            assert np.array_equal(np.asarray(taco.decompress(file, model)),
                                  np.asarray(taco.decompress(file, model)))


@pytest.mark.timeout(300)
@settings(DECODE, max_examples=60)
@given(st.data())
def test_declared_sizes_other_than_the_coded_one(corpus, fuzz, data):
    """The payload codes one size, the header declares another (valid CRC): more or fewer symbols
    are decoded than were coded. A decoded image has the declared size."""
    f = corpus.fields[data.draw(st.integers(0, len(corpus.fields) - 1))]
    h = data.draw(st.one_of(st.integers(1, 600), st.sampled_from([MAX_SIDE, MAX_SIDE + 1, 2**35 - 1])))
    w = data.draw(st.one_of(st.integers(1, 600), st.sampled_from([MAX_SIDE, MAX_SIDE + 1])))
    file = replace(f, height=fuzz._varint(h), width=fuzz._varint(w)).assemble()
    assert read(file, corpus, fuzz) in ("image", "TacoFormatError")


def test_a_huge_declared_size_is_refused_before_anything_is_allocated(tiny_elic):
    """32768 x 32768 with an 8-byte payload: the default cap refuses it at once."""
    from taco.models import model_fingerprint

    header = TacoHeader("elic-tiny", model_fingerprint(tiny_elic), MAX_SIDE, MAX_SIDE, "RGB")
    rans = (1 << 40).to_bytes(8, sys.byteorder)
    data = pack(header, rans)
    start = _reset_peak_rss()
    t0 = time.perf_counter()
    with pytest.raises(TacoFormatError, match="cap"):
        taco.decompress(data, tiny_elic)
    assert time.perf_counter() - t0 < 5
    assert _peak_rss() - start < 100_000  # KiB


def _peak_rss() -> int:
    """This process's peak resident size since the last :func:`_reset_peak_rss`, in KiB."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def _reset_peak_rss() -> int:
    """Reset the peak to the current size (ru_maxrss never goes down: after a test that peaked
    higher, growth under it went unseen) -> that size; a skip where /proc cannot do it."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return _peak_rss()
    except (OSError, StopIteration):
        pytest.skip("needs Linux's /proc/self/clear_refs and VmHWM to measure a peak")


CRASHERS = {  # strings that crashed CompressAI's decoder (SIGSEGV) before taco checked them
    "empty": b"",
    "one byte": b"\x01",
    "zero state": bytes(8),
    "zero state, more zeros": bytes(64),
}


@pytest.mark.timeout(300)
def test_former_crashers_now_raise_in_a_separate_process():
    """Files of ~100 bytes declaring 1024x1024 whose strings the C++ decoder read far past their
    end (SIGSEGV; format version 1 had 11 such strings, version 2 one stream, version 3 chunks):
    as a version-2 stream, as a whole version-3 stream, and as the last of the three chunks the
    size needs, after two plausible ones. Run in a child process so that a regression fails this
    test, not the session."""
    script = textwrap.dedent("""
        import sys, zlib, torch
        torch.set_num_threads(1)
        import taco
        from taco.bitstream import TacoFormatError, TacoHeader, pack
        from taco.bitstream.rans import join_stream
        from taco.models import create_model, model_fingerprint
        model = create_model("elic-tiny", seed=0)
        header = TacoHeader("elic-tiny", model_fingerprint(model), 1024, 1024, "RGB")
        state = (1 << 40).to_bytes(8, sys.byteorder)
        def version_2(payload):
            v3 = pack(header, payload)
            head = v3[:4] + b"\\x02" + v3[5:6] + v3[7:-len(payload) - 4]
            return head + zlib.crc32(payload, zlib.crc32(head)).to_bytes(4, "big") + payload
        for string in map(bytes.fromhex, sys.argv[1:]):
            for data in (version_2(string), pack(header, string),
                         pack(header, join_stream([state, state, string]))):
                try:
                    taco.decompress(data, model)
                    print("image", flush=True)
                except TacoFormatError as exc:
                    print("TacoFormatError", exc, flush=True)
    """)
    r = subprocess.run([sys.executable, "-c", script, *(s.hex() for s in CRASHERS.values())],
                       capture_output=True, text=True, timeout=280)
    lines = r.stdout.splitlines()
    assert r.returncode == 0, f"the decoder died (status {r.returncode}) on {list(CRASHERS)[len(lines) // 3]!r}"
    assert [line.split()[0] for line in lines] == ["TacoFormatError"] * 3 * len(CRASHERS), r.stdout


# --------------------------------------------------------------------------- the fuzz script


@pytest.mark.timeout(600)
def test_fuzz_script_mutators_ci_sized(corpus, fuzz, tmp_path, monkeypatch):
    """400 cases of ``scripts/fuzz_decoder.py``'s own mutators through its target, which also
    runs ``taco info`` on each (exit 0 or 2, one line)."""
    from taco.bitstream import rans

    outcomes, decoded = {}, set()  # decoded: mutators whose streams the decoder read a chunk of
    check_chunk = rans.check_chunk

    def recording(chunk, parts, where):
        decoded.add(kind)
        check_chunk(chunk, parts, where)

    monkeypatch.setattr(rans, "check_chunk", recording)
    for i in range(400):
        kind, data = fuzz.mutate(fuzz.case_rng(7, i), corpus)
        outcomes[kind, fuzz.check_one(data, corpus, str(tmp_path))] = True
    kinds = {k for k, _ in outcomes}
    assert kinds == set(fuzz.MUTATORS) | set(fuzz.RAW_MUTATORS)
    # garbage really reached the decoder (and was refused once a chunk of it was decoded)
    assert "stream" in decoded and ("stream", "TacoFormatError") in outcomes
    assert ("chunks", "image") in outcomes and ("chunks", "TacoFormatError") in outcomes


@pytest.mark.timeout(300)
@settings(FAST, max_examples=150)
@given(data=st.binary(max_size=120), flips=st.lists(st.integers(0, 10_000), max_size=3))
def test_taco_info_on_fuzzed_files(tmp_path_factory, corpus, data, flips):
    path = tmp_path_factory.mktemp("info") / "x.taco"
    seed = bytearray(random.Random(len(data)).choice(corpus.seeds))
    for f in flips:
        seed[(f // 8) % len(seed)] ^= 1 << (f % 8)
    for content in (data, bytes(seed), bytes(seed[: len(data)])):
        path.write_bytes(content)
        try:
            unpack(content)
            expected = 0
        except TacoFormatError:
            expected = 2
        assert cli_main(["info", str(path), "--json"]) == expected


def test_the_corpus_is_valid_and_the_fuzzer_rebuilds_it_exactly(corpus, fuzz):
    """The seeds (versions 3 and 2, one to seven chunks) decode, their fields reassemble to the
    file (CRC included), and a payload edit alone is caught by the CRC."""
    assert {f.version for f in corpus.fields} == {b"\x02", b"\x03"}
    assert sorted({len(f.chunks) for f in corpus.fields}) == [1, 4, 7]
    for data, f in zip(corpus.seeds, corpus.fields, strict=True):
        assert read(data, corpus, fuzz) == "image"
        assert f.assemble() == data
        with pytest.raises(TacoFormatError, match="checksum"):
            taco.decompress(data[:-1] + bytes([data[-1] ^ 1]), corpus.model_for(data))
