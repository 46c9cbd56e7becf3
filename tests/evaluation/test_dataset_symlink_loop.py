"""A dataset path that is a symlink loop is "no such folder" (a DatasetError), as a missing one
is: Path.resolve() raised RuntimeError: Symlink loop from open_dataset."""

from __future__ import annotations

import os

import pytest

from taco.evaluation.datasets import DatasetError, open_dataset


@pytest.mark.parametrize("spec", ["{}", "kodak:{}"])
def test_a_symlink_loop_is_no_such_folder(tmp_path, spec):
    loop = tmp_path / "loopds"
    os.symlink("loopds", loop)
    with pytest.raises(DatasetError, match=r"loopds: no such folder$"):
        open_dataset(spec.format(loop))
