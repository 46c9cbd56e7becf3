"""A ``.taco`` file or an image given as a checkpoint (``taco import-checkpoint cat.taco``) is
said to be one, by the authors' checkpoint import and the one torch-file reader, where torch.load
described its bytes as a pickle: 'not a readable PyTorch checkpoint (Unsupported operand 84)'."""

from __future__ import annotations

import re

import pytest

import taco
from taco.models import CheckpointError
from taco.official import import_checkpoint
from taco.text.weights import load_torch_file


@pytest.fixture(scope="module")
def cat_taco(tiny_elic, sample_image, tmp_path_factory):
    path = tmp_path_factory.mktemp("taco") / "cat.taco"
    path.write_bytes(taco.compress(sample_image.crop((0, 0, 64, 64)), None, tiny_elic))
    return path


def test_a_taco_file_is_named_as_one(cat_taco):
    words = "a .taco file (a compressed image), not a checkpoint: taco decompress reads it"
    with pytest.raises(CheckpointError, match=re.escape(f"{cat_taco}: {words}")):
        import_checkpoint(cat_taco)
    with pytest.raises(ValueError, match=re.escape(words)):
        load_torch_file(cat_taco)


@pytest.mark.parametrize(("suffix", "kind"), [("png", "a PNG"), ("jpeg", "a JPEG"), ("webp", "a WebP")])
def test_an_image_is_named_as_one(sample_image, tmp_path, suffix, kind):
    path = tmp_path / f"cat.{suffix}"
    sample_image.crop((0, 0, 32, 32)).save(path)
    with pytest.raises(CheckpointError, match=re.escape(f"{path}: {kind} image, not a checkpoint")):
        import_checkpoint(path)
