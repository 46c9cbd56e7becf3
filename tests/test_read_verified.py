"""taco.checksums.read_verified: a shipped file's bytes, or one error naming what is wrong with it."""

import hashlib

import pytest

from taco.checksums import read_verified


class Broken(RuntimeError):
    pass


def test_the_bytes_of_a_file_with_its_digest(tmp_path):
    f = tmp_path / "w.bin"
    f.write_bytes(b"weights")
    assert read_verified(f, hashlib.sha256(b"weights").hexdigest(), "W", "fix", Broken) == b"weights"


def test_a_missing_or_other_file_is_the_callers_error(tmp_path):
    f = tmp_path / "w.bin"
    with pytest.raises(Broken, match=r"^W is missing \(.*\): reinstall$"):
        read_verified(f, "0" * 64, "W", "reinstall", Broken)
    f.write_bytes(b"other")
    with pytest.raises(Broken, match=rf"^W {f} has SHA-256 {hashlib.sha256(b'other').hexdigest()}, expected 0+: reinstall$"):
        read_verified(f, "0" * 64, "W", "reinstall", Broken)
