"""The atheris target's structured half is steered by its input (``scripts/fuzz_decoder.py``).

libFuzzer mutates bytes and keeps those that reach new code; that only guides the structured cases
if their choices are read from the input's bytes (``fuzz.BytesRandom``), where an edit to a late
byte leaves the earlier choices as they were -- not if the input merely seeds a generator.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest


def test_bytes_random_reads_its_draws_from_the_input_in_order(fuzz):
    r = fuzz.BytesRandom(bytes([7, 200, 0x12, 0x34, 0xAB, 9, 9, 9]))
    assert r.randrange(5) == 7 % 5
    assert r.random() == 200 / 256
    assert r.getrandbits(12) == 0x1234 & 0xFFF
    assert r.choice([10, 20, 30]) == [10, 20, 30][0xAB % 3]
    assert r.randbytes(3) == b"\x09\x09\x09"
    assert r.randint(1, 4) == 1 and r.randbytes(2) == bytes(2)  # past the end: zeros


def test_bytes_random_ranges_and_samples_stay_in_bounds(fuzz):
    src = random.Random(3)
    for _ in range(2000):
        r = fuzz.BytesRandom(src.randbytes(src.randrange(40)))
        assert 1 << 31 <= r.randrange(1 << 31, 1 << 63) < 1 << 63
        assert -2 <= r.randint(-2, 2) <= 2
        assert r.randrange(3, 30, 3) % 3 == 0
        picked = r.sample(range(9), 4)
        assert len(set(picked)) == 4 and all(0 <= p < 9 for p in picked)
    with pytest.raises(ValueError):
        fuzz.BytesRandom(b"\x01").randrange(0)


def test_the_structured_case_follows_the_input_bytes(corpus, fuzz):
    """The same input gives the same case; editing the input's last byte keeps the seed file and
    the mutator (drawn from its first bytes); every mutator is reachable from some input."""
    src = random.Random(5)
    kinds, kept = set(), 0
    for _ in range(1500):
        data = src.randbytes(src.randrange(8, 48))
        kind, case = fuzz.structured_case(data, corpus)
        assert fuzz.structured_case(data, corpus) == (kind, case)
        kinds.add(kind)
        edited = data[:-1] + bytes([data[-1] ^ 0x5A])
        kept += fuzz.structured_case(edited, corpus)[0] == kind
    assert kinds == set(fuzz.MUTATORS) | set(fuzz.RAW_MUTATORS)
    assert kept == 1500


def test_a_structured_case_is_a_valid_file_with_one_field_changed(corpus, fuzz):
    """An input choosing seed 0, a non-raw case and the "fingerprint" mutator with zeros: the seed
    file with a zero fingerprint and a re-sealed CRC."""
    f = corpus.fields[0]
    choice = fuzz.MUTATORS.index("fingerprint")
    data = bytes([0, 0, 255, choice, 0])
    assert fuzz.structured_case(data, corpus) == ("fingerprint", replace(f, fingerprint=bytes(8)).assemble())
