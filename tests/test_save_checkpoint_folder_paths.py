"""save_checkpoint refuses a path that names a folder, not a file, with the TacoValueError its
docstring promises for bad paths (``"."`` and ``"/"`` were pathlib's bare ValueError 'has an
empty name', ``"x/.."`` an OSError EBUSY after creating ``x``, and ``"runs/"`` was written as
a file named ``runs``, ``"x/."`` as a file named ``x``, and an existing folder ``"runs"`` was
os.replace's bare IsADirectoryError); it creates the folders missing on the way to a file's path."""

from __future__ import annotations

import os

import pytest

import taco
from taco.fileobjects import checked_file_path


@pytest.fixture(scope="module")
def model():
    return taco.create_model("elic-tiny", seed=0)


@pytest.mark.parametrize("path", [".", "/", "x/..", "runs/", "..", "a/b/..", "x/.", "./."])
def test_a_path_that_names_a_folder_is_refused(model, path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(taco.TacoValueError, match=r"cannot write to '.*': the path names a folder, not a file"):
        taco.save_checkpoint(model, path)
    assert os.listdir(tmp_path) == []  # nothing made, not even x


@pytest.mark.parametrize("path", ["runs", "runs/.", "runs/sub/.."])
def test_an_existing_folder_is_refused(model, path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "sub").mkdir(parents=True)
    with pytest.raises(taco.TacoValueError, match=r"cannot write to '.*': the path names a folder, not a file"):
        taco.save_checkpoint(model, path)
    assert os.listdir(tmp_path / "runs") == ["sub"]


def test_missing_folders_on_the_way_are_created(model, tmp_path):
    path = tmp_path / "new" / "deeper" / "m.safetensors"
    assert taco.save_checkpoint(model, path) == path and path.is_file()
    assert taco.save_checkpoint(model, tmp_path / "more" / "s", max_shard_bytes=1_000_000).name == "s"


def test_checked_file_path_keeps_checked_paths_rules():
    def error(shown: str, reason: str) -> ValueError:
        return ValueError(f"{shown}: {reason}")

    assert checked_file_path("x/./y.bin", error).name == "y.bin"
    with pytest.raises(ValueError, match="an empty path"):
        checked_file_path("", error)
    with pytest.raises(ValueError, match="null byte"):
        checked_file_path("a\x00b", error)
