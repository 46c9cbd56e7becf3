"""``taco.load`` refusals name what is wrong: a sharded index that is a broken symbolic link is
named, and a file starting like taco's magic bytes is not called a .taco file."""

from __future__ import annotations

import os

import pytest

import taco
from taco.models import CheckpointError


def test_a_broken_link_of_the_sharded_index_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.symlink(tmp_path / "nothere", tmp_path / "m.safetensors.index.json")
    with pytest.raises(CheckpointError, match=r"m\.safetensors\.index\.json is a broken symbolic link"):
        taco.load("m.safetensors")


def test_a_file_starting_like_taco_magic_is_not_called_a_taco_file(tmp_path):
    path = tmp_path / "tacx.safetensors"
    path.write_bytes(b"TACX" + bytes(60))
    with pytest.raises(CheckpointError) as caught:
        taco.load(path)
    assert ".taco file" not in str(caught.value)
