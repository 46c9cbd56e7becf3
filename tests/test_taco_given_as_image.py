"""A .taco file given where an image is read by its content, not its name (stdin, bytes, a
renamed file) was "not an image file Pillow can identify"; by its .taco suffix it was already
named a .taco file (review M)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

import taco
from taco.images import ImageReadError, load_image


@pytest.fixture(scope="module")
def taco_bytes() -> bytes:
    return taco.compress(np.zeros((16, 16, 3), np.uint8), None, taco.create_model("elic-tiny"))


def test_taco_bytes_given_as_an_image_are_named(taco_bytes: bytes, tmp_path: Path) -> None:
    renamed = tmp_path / "photo.png"
    renamed.write_bytes(taco_bytes)
    for given in ({"path": renamed}, {"data": taco_bytes, "path": "image bytes"}):
        with pytest.raises(ImageReadError, match="it is a .taco file, not an image: decompress it"):
            load_image(**given)
    with pytest.raises(ImageReadError, match="is a .taco file"):
        taco.compress(io.BytesIO(taco_bytes), None, taco.create_model("elic-tiny"))


def test_other_unidentified_files_keep_their_message(tmp_path: Path) -> None:
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"TAC not quite" * 4)
    with pytest.raises(ImageReadError, match="not an image file Pillow can identify"):
        load_image(junk)
