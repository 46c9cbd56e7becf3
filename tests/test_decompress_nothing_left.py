"""``taco decompress`` with no file left to decode (each refused by its header check, e.g. over
``--max-pixels``) says so and ends without loading a model: no torch is imported for an error line
(it took 4.7 s and 647 MiB to print one)."""

from __future__ import annotations

import pytest

import taco

HEAVY = {"torch", "compressai"}


@pytest.fixture()
def small_file(tmp_path, sample_image, tiny_elic):
    """A 64x48 file of elic-tiny at seed 0."""
    path = tmp_path / "small.taco"
    path.write_bytes(taco.compress(sample_image.crop((0, 0, 64, 48)), None, tiny_elic))
    return path


def test_a_file_over_the_cap_is_refused_without_torch(probe, tmp_path, small_file):
    r = probe(tmp_path, "decompress", str(small_file), "-o", str(tmp_path / "x.png"), "--max-pixels", "100")
    assert r["code"] == 2
    assert "over the decoder's cap of 100" in r["stderr"]
    assert not (tmp_path / "x.png").exists()
    assert not HEAVY & set(r["modules"])


def test_a_batch_all_refused_says_so_without_torch(probe, tmp_path, small_file):
    other = tmp_path / "other.taco"
    other.write_bytes(small_file.read_bytes())
    r = probe(tmp_path, "decompress", str(small_file), str(other), "-m", "elic-tiny",
              "-o", str(tmp_path / "out"), "--max-pixels", "100")
    assert r["code"] == 2
    assert "decompressed 0 files in 0.00 s (2 failed)" in r["stdout"]
    assert "2 of 2 files failed" in r["stderr"]
    assert not HEAVY & set(r["modules"])
