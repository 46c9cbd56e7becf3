"""open_dataset reads and parses its dataset spec once (it was parsed by its check, then again),
with the same checks and messages."""

from __future__ import annotations

import os

import pytest

from taco.evaluation.datasets import DatasetError, check_dataset, open_dataset
from taco.samples import SAMPLES_DIR


class CountedPath(os.PathLike):
    """A path that counts how often it is read."""

    def __init__(self, path: str) -> None:
        self.path, self.reads = path, 0

    def __fspath__(self) -> str:
        self.reads += 1
        return self.path


def test_the_spec_is_read_once(tmp_path):
    spec = CountedPath(f"folder:{SAMPLES_DIR}")
    data = open_dataset(spec, limit=1)
    assert spec.reads == 1 and data.kind == "folder" and data.root == SAMPLES_DIR
    missing = CountedPath(str(tmp_path / "nothing"))
    with pytest.raises(DatasetError, match=r"nothing: no such folder$"):
        open_dataset(missing)
    assert missing.reads == 1


def test_check_dataset_still_checks_and_returns_nothing(tmp_path):
    assert check_dataset(SAMPLES_DIR) is None
    with pytest.raises(DatasetError, match="coco30k protocol must be one of"):
        open_dataset(SAMPLES_DIR, coco30k_protocol="mine")
