"""Running out of memory loading a text encoder's weights was "MiniLM: '...': cannot read the
weights (unable to mmap ... Cannot allocate memory (12))", a TextEncoderUnavailable (review F-EXC,
s39); it is now :class:`taco.OutOfMemoryError` ("out of memory loading ..."), as every other
allocation failure, and so are the CLIP tokenizer's, a torch pickle's and the training loss's CLIP.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest
import safetensors
import torch

import taco
from taco.cli import main
from taco.cli.common import error_line
from taco.errors import TextEncoderUnavailable
from taco.memory import OutOfMemoryError
from taco.text import clear_text_encoder_cache, clip
from taco.text.minilm import MiniLMTextEncoder
from taco.text.weights import load_torch_file, loading_out_of_memory

PHOTO = Path("/work/shared/data/photos/val/kodak-i03.png")

_NO_MEMORY = [
    MemoryError(),
    OSError(errno.ENOMEM, "Cannot allocate memory"),
    RuntimeError("unable to mmap 90868376 bytes from file </x/model.safetensors>: "
                 "Cannot allocate memory (12)"),
    type("SafetensorError", (Exception,), {})("Error while deserializing header: "
                                              "Cannot allocate memory (os error 12)"),
]


@pytest.mark.parametrize("failure", _NO_MEMORY, ids=lambda e: type(e).__name__)
def test_minilm_out_of_memory_is_out_of_memory(failure, monkeypatch):
    def safe_open(*args, **kwargs):  # the weights' headers, then their tensors, read by it
        raise failure

    monkeypatch.setattr(safetensors, "safe_open", safe_open)
    with pytest.raises(OutOfMemoryError) as caught:
        MiniLMTextEncoder()
    assert isinstance(caught.value, MemoryError) and not isinstance(caught.value, TextEncoderUnavailable)
    text = str(caught.value)
    assert text.startswith("out of memory loading the text encoder's weights in '"), text
    assert "cannot read" not in text
    if "mmap" in str(failure):
        assert text.endswith(": could not map 86.7 MiB")
    assert error_line(caught.value) == text  # the CLI's line: that, one line


def test_other_failures_still_name_the_weights(monkeypatch):
    def safe_open(*args, **kwargs):
        raise RuntimeError("unable to mmap 12 bytes from file </x>: Invalid argument (22)")

    monkeypatch.setattr(safetensors, "safe_open", safe_open)
    with pytest.raises(TextEncoderUnavailable, match="cannot read the weights"):
        MiniLMTextEncoder()
    assert loading_out_of_memory(ValueError("bad file"), "x") is None


def test_clip_tokenizer_out_of_memory(tmp_path, monkeypatch):
    (tmp_path / "tokenizer.json").write_text("{}", encoding="utf-8")

    def no_memory(file, limit):
        raise MemoryError

    monkeypatch.setattr(clip, "read_json_object", no_memory)
    with pytest.raises(OutOfMemoryError, match=r"^out of memory loading the tokenizer of '.*': "
                                               "an allocation failed$"):
        clip.clip_tokenizer(tmp_path)


def test_a_torch_file_read_out_of_memory_is_not_a_bad_file(tmp_path, monkeypatch):
    path = tmp_path / "pytorch_model.bin"
    torch.save({"w": torch.zeros(2)}, path)
    assert set(load_torch_file(path)) == {"w"}

    def no_memory(*args, **kwargs):
        raise RuntimeError(f"unable to mmap 2048 bytes from file <{path}>: Cannot allocate memory (12)")

    monkeypatch.setattr(torch, "load", no_memory)
    with pytest.raises(OutOfMemoryError, match=r"^out of memory loading .*pytorch_model\.bin: could not map"):
        load_torch_file(path, mmap=True)


@pytest.mark.skipif(not PHOTO.is_file(), reason="needs the shared photos")
def test_taco_compress_says_out_of_memory(tmp_path, monkeypatch, capsys):
    def safe_open(*args, **kwargs):
        raise RuntimeError("unable to mmap 90868376 bytes from file </x/model.safetensors>: "
                           "Cannot allocate memory (12)")

    image = tmp_path / "a.png"
    shutil.copyfile(PHOTO, image)
    clear_text_encoder_cache()  # a MiniLM loaded by another test is not loaded again
    monkeypatch.setattr(safetensors, "safe_open", safe_open)
    try:
        assert main(["compress", str(image), "--caption", "a door", "-o", str(tmp_path / "a.taco")]) == 2
    finally:
        clear_text_encoder_cache()
    err = capsys.readouterr().err
    assert "taco compress: error: " in err and "out of memory loading the text encoder's weights in" in err
    assert "cannot read the weights" not in err and "Traceback" not in err
    assert not (tmp_path / "a.taco").exists()
    assert taco.OutOfMemoryError is OutOfMemoryError


def test_the_training_loss_clip_out_of_memory(tmp_path, monkeypatch):
    from taco import losses
    from taco.metrics import MetricUnavailable

    def no_memory(folder):
        raise OSError(errno.ENOMEM, "Cannot allocate memory")

    monkeypatch.setattr(losses, "check_clip_folder", no_memory)
    with pytest.raises(OutOfMemoryError, match=r"^out of memory loading CLIP from '.*': an allocation failed$"):
        losses.ClipTowers.load(tmp_path)

    def bad(folder):
        raise ValueError("not a CLIP")

    monkeypatch.setattr(losses, "check_clip_folder", bad)
    with pytest.raises(MetricUnavailable, match="cannot load CLIP from"):
        losses.ClipTowers.load(tmp_path)
