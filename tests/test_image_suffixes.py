"""A folder's images are those of every suffix taco reads: a folder scan left out .apng, .jp2,
.j2k, .tga and .qoi files (said 'left out 3 files it does not read as images'), which taco read
when named and ``taco decompress -o x.SUFFIX`` writes (Review D)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, features

from taco.cli.files import save_format
from taco.cli.inputs import expand_inputs
from taco.images import load_image
from taco.suffixes import DECODED_SUFFIX, IMAGE_SUFFIXES, folder_images

WRITTEN_BY_DECOMPRESS = [".apng", ".jp2", ".j2k", ".tga", ".qoi"]


@pytest.mark.parametrize("suffix", WRITTEN_BY_DECOMPRESS)
def test_a_file_decompress_writes_is_an_image_of_a_folder(tmp_path, suffix):
    if suffix in (".jp2", ".j2k") and not features.check("jpg_2000"):
        pytest.skip("this Pillow has no OpenJPEG")
    path = tmp_path / f"a{suffix}"
    Image.new("RGB", (12, 8), (200, 30, 60)).save(path, format=save_format(path))  # as decompress
    assert suffix in IMAGE_SUFFIXES
    assert load_image(path).size == (12, 8)
    assert folder_images(tmp_path) == [path.name]
    files, _ = expand_inputs([str(tmp_path)], IMAGE_SUFFIXES, skip_in_folders=DECODED_SUFFIX)
    assert [Path(f).name for f in files] == [path.name]
