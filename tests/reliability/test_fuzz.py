"""Fuzzing the container and the decoder (issue 7, item 1), CI-sized.

The only allowed outcomes of reading a ``.taco`` file are a decoded image of the declared size
or :class:`TacoFormatError` (``taco info``: exit 0, or 2 with one line); never another exception,
a crash, a hang, or an allocation sized by the file. The CRC-32 (over the whole file) rejects
almost every edit before decoding, so most decoder cases here recompute the CRC: well-formed
containers carrying a garbage rANS stream, other header field values and wrong image sizes.

The long run (>= 100k cases, crash-isolated) is ``scripts/fuzz_decoder.py run``; its figures are
in docs/reliability.md.
"""

from __future__ import annotations

import random
import resource
import subprocess
import sys
import textwrap
import time
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    data = b"TACO\x02" + tail
    try:
        f = unpack(data)
    except TacoFormatError:
        return
    assert f.header_bytes + f.payload_bytes == len(data)


@pytest.mark.timeout(300)
def test_truncation_at_every_offset(corpus):
    for data in corpus.seeds:
        for cut in range(len(data)):
            with pytest.raises(TacoFormatError):
                unpack(data[:cut])
            with pytest.raises(TacoFormatError):
                taco.decompress(data[:cut], corpus.model_for(data))


@pytest.mark.timeout(300)
@DECODE
@given(st.data())
def test_header_fields_behind_a_valid_crc(corpus, fuzz, data):
    """Any version, model code (or inline id), mode/padding byte or fingerprint, CRC recomputed:
    the header's own checks, then the model's, then the decoder."""
    p = corpus.parsed[data.draw(st.integers(0, len(corpus.parsed) - 1))]
    field = data.draw(st.sampled_from(["version", "model", "mode-padding", "fingerprint", "bits"]))
    value = data.draw(st.binary(min_size=1, max_size=12))
    if field == "version":
        head = p.head[:4] + value[:1] + p.head[5:]
    elif field == "model":
        head = p.head[:5] + value + p.head[p.height_at - 8 :]
    elif field == "mode-padding":
        head = p.head[:-1] + value[:1]
    elif field == "fingerprint":
        head = p.head[: p.height_at - 8] + (value * 8)[:8] + p.head[p.height_at :]
    else:
        b = bytearray(p.head)
        for i in data.draw(st.lists(st.integers(0, 8 * len(b) - 1), min_size=1, max_size=4)):
            b[i // 8] ^= 1 << (i % 8)
        head = bytes(b)
    assert read(fuzz.assemble(head, p.payload), corpus, fuzz) in ("image", "TacoFormatError")


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
    """Valid header and CRC, a corrupted rANS stream: the C++ decoder must neither crash nor hang."""
    p = corpus.parsed[data.draw(st.integers(0, len(corpus.parsed) - 1))]
    donor = corpus.parsed[data.draw(st.integers(0, len(corpus.parsed) - 1))].payload
    file = fuzz.assemble(p.head, garbage_stream(data.draw, p.payload, donor))
    if read(file, corpus, fuzz) == "image":  # and the same image twice: nothing read beyond the
        model = corpus.model_for(file)         # stream's memory (heap contents vary between calls)
        assert np.array_equal(np.asarray(taco.decompress(file, model)),
                              np.asarray(taco.decompress(file, model)))


@pytest.mark.timeout(300)
@settings(DECODE, max_examples=60)
@given(st.data())
def test_declared_sizes_other_than_the_coded_one(corpus, fuzz, data):
    """The payload codes one size, the header declares another (valid CRC): more or fewer symbols
    are decoded than were coded. A decoded image has the declared size."""
    p = corpus.parsed[data.draw(st.integers(0, len(corpus.parsed) - 1))]
    h = data.draw(st.one_of(st.integers(1, 600), st.sampled_from([MAX_SIDE, MAX_SIDE + 1, 2**35 - 1])))
    w = data.draw(st.one_of(st.integers(1, 600), st.sampled_from([MAX_SIDE, MAX_SIDE + 1])))
    rest = p.head[p.height_at :]
    rest = rest[len(fuzz._varint_prefix(rest)) :]
    rest = rest[len(fuzz._varint_prefix(rest)) :]
    head = p.head[: p.height_at] + fuzz._varint(h) + fuzz._varint(w) + rest
    file = fuzz.assemble(head, p.payload)
    assert read(file, corpus, fuzz) in ("image", "TacoFormatError")


def test_a_huge_declared_size_is_refused_before_anything_is_allocated(tiny_elic):
    """32768 x 32768 with a 100-byte payload: the default cap refuses it at once."""
    from taco.models import model_fingerprint

    header = TacoHeader("elic-tiny", model_fingerprint(tiny_elic), MAX_SIDE, MAX_SIDE, "RGB")
    rans = (1 << 40).to_bytes(8, sys.byteorder)
    data = pack(header, rans)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with pytest.raises(TacoFormatError, match="cap"):
        taco.decompress(data, tiny_elic)
    assert time.perf_counter() - t0 < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 100_000  # KiB


CRASHERS = {  # strings that crashed CompressAI's decoder (SIGSEGV) before taco checked them
    "empty": b"",
    "one byte": b"\x01",
    "zero state": bytes(8),
    "zero state, more zeros": bytes(64),
}


@pytest.mark.timeout(300)
def test_former_crashers_now_raise_in_a_separate_process():
    """Files of ~100 bytes declaring 1024x1024 whose strings the C++ decoder read far past their
    end (SIGSEGV; format version 1 had 11 such strings, version 2 has one stream). Run in a child
    process so that a regression fails this test, not the session."""
    script = textwrap.dedent("""
        import sys, torch
        torch.set_num_threads(1)
        import taco
        from taco.bitstream import TacoFormatError, TacoHeader, pack
        from taco.models import create_model, model_fingerprint
        model = create_model("elic-tiny", seed=0)
        header = TacoHeader("elic-tiny", model_fingerprint(model), 1024, 1024, "RGB")
        for string in map(bytes.fromhex, sys.argv[1:]):
            try:
                taco.decompress(pack(header, string), model)
                print("image", flush=True)
            except TacoFormatError as exc:
                print("TacoFormatError", exc, flush=True)
    """)
    r = subprocess.run([sys.executable, "-c", script, *(s.hex() for s in CRASHERS.values())],
                       capture_output=True, text=True, timeout=280)
    lines = r.stdout.splitlines()
    assert r.returncode == 0, f"the decoder died (status {r.returncode}) on {list(CRASHERS)[len(lines)]!r}"
    assert [line.split()[0] for line in lines] == ["TacoFormatError"] * len(CRASHERS), r.stdout


# --------------------------------------------------------------------------- the fuzz script


@pytest.mark.timeout(600)
def test_fuzz_script_mutators_ci_sized(corpus, fuzz, tmp_path):
    """300 cases of ``scripts/fuzz_decoder.py``'s own mutators through its target, which also
    runs ``taco info`` on each (exit 0 or 2, one line)."""
    outcomes = {}
    for i in range(300):
        kind, data = fuzz.mutate(fuzz.case_rng(7, i), corpus)
        outcomes[kind, fuzz.check_one(data, corpus, str(tmp_path))] = True
    kinds = {k for k, _ in outcomes}
    assert kinds == set(fuzz.MUTATORS)
    assert ("payload-behind-crc", "image") in outcomes  # garbage really reached the decoder


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
    """The seeds decode, ``assemble`` reproduces the container (CRC included), and a payload edit
    alone is caught by the CRC."""
    for data, p in zip(corpus.seeds, corpus.parsed, strict=True):
        assert read(data, corpus, fuzz) == "image"
        assert fuzz.assemble(p.head, p.payload) == data
        with pytest.raises(TacoFormatError, match="checksum"):
            taco.decompress(data[:-1] + bytes([data[-1] ^ 1]), corpus.model_for(data))
