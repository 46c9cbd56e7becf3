"""A text file given as a checkpoint (a Git LFS pointer of a clone without ``git lfs``, the HTML
page a failed download saved, any text) is said to be one, by the authors' checkpoint import, by
the one torch-file reader and by taco's own checkpoint loading alike
(:func:`taco.filekinds.text_file_problem`), where they described its bytes as a pickle
("Unsupported operand 118") or a safetensors header ("header too large")."""

from __future__ import annotations

import re

import pytest

import taco
from taco.models import CheckpointError
from taco.official import import_checkpoint
from taco.text.weights import load_torch_file

LFS = ("version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22e"
       "adbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n")
HTML = "<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>gone</body></html>\n"


@pytest.mark.parametrize(("text", "words"), [
    (LFS, "a text file, not a checkpoint: a Git LFS pointer (run `git lfs pull`"),
    (HTML, "a text file, not a checkpoint: an HTML page (a failed download?)"),
    ("hello\n", "a text file, not a checkpoint (it starts 'hello')"),
])
def test_a_text_file_is_said_to_be_one(tmp_path, text, words):
    """It was 'not a readable PyTorch checkpoint (Unsupported operand 118)', and for -m
    'not a safetensors file (... header too large)'."""
    pth, st = tmp_path / "model.pth.tar", tmp_path / "model.safetensors"
    pth.write_text(text)
    st.write_text(text)
    with pytest.raises(CheckpointError, match=re.escape(f"{pth}: {words}")):
        import_checkpoint(pth)
    with pytest.raises(ValueError, match=re.escape(words)):
        load_torch_file(pth)  # the one reader of torch files (text encoders' pytorch_model.bin too)
    with pytest.raises(CheckpointError, match=re.escape(f"{st}: {words}")):
        taco.load(st)


def test_a_binary_non_checkpoint_keeps_the_readers_words(tmp_path):
    path = tmp_path / "noise.pth.tar"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint") as err:
        import_checkpoint(path)
    assert "text file" not in str(err.value)
