"""A model folder copied from a repository cloned without ``git lfs`` holds a Git LFS pointer (a
few lines of text) in place of model.safetensors. safetensors read its first bytes as a header
length and the error said "cannot read the weights (Error while deserializing header: header too
large)"; it now says what the file is and what to do (:func:`taco.filekinds.text_file_problem`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from taco.text import CLIPTextEncoder, TextEncoderUnavailable
from taco.text.clip import TINY_CONFIG, load_clip_text
from taco.text.clip_vocab import clip_bpe_folder

POINTER = ("version https://git-lfs.github.com/spec/v1\n"
           "oid sha256:a63082132ba4f97a80bea76823f544493bffa8082296d62d71581a4feff1576f\n"
           "size 605247071\n")


def lfs_clip_folder(root: Path) -> Path:
    """A CLIP text folder: config.json and the tokenizer files, and an LFS pointer for weights."""
    folder = root / "clip"
    folder.mkdir()
    for f in clip_bpe_folder().iterdir():
        shutil.copy(f, folder / f.name)
    (folder / "config.json").write_text(json.dumps({"model_type": "clip_text_model", **TINY_CONFIG}))
    (folder / "model.safetensors").write_text(POINTER)
    return folder


def test_an_lfs_pointer_for_weights_is_named(tmp_path: Path) -> None:
    folder = lfs_clip_folder(tmp_path)
    for load in (load_clip_text, CLIPTextEncoder):
        with pytest.raises(TextEncoderUnavailable) as caught:
            load(folder)
        message = str(caught.value)
        # the reader names the file, the folder check (taco.filekinds.text_weights_problem) the
        # folder and the file's name in it
        assert (f"{str(folder / 'model.safetensors')!r}: a text file, not a checkpoint: a Git LFS pointer" in message
                or f"{str(folder)!r}: model.safetensors is a text file, not a checkpoint: a Git LFS pointer" in message)
        assert "git lfs pull" in message
        assert "header too large" not in message
