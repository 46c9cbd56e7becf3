"""Running out of memory. ``taco.compress(image, "a caption", model)`` of a
MiniLM model out of memory loading its text encoder said "out of memory encoding a 64x48 image
...: out of memory loading the text encoder's weights in '...': could not map 86.7 MiB; a smaller
stripe_budget= lowers the analysis peak" (the encoder is loaded inside the encoding's handler,
which wrapped taco's own error again, with a hint that does not help); it is now the loader's
line as it is, in ``taco.compress_batch`` too. And torch's "unable to mmap N bytes ... Cannot
allocate memory (12)" is an allocation failure to :func:`taco.memory.allocation_failure` itself
(it was matched in taco.text.weights alone), so every caller of it takes it.
Loading a text encoder's weights, the CLIP tokenizer, a torch pickle or the training loss's CLIP
out of memory is :class:`taco.OutOfMemoryError` ("out of memory loading ..."), not a
TextEncoderUnavailable or a bad file.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest
import safetensors
import torch
from PIL import Image

import taco
from taco import codec
from taco.cli import main
from taco.cli.common import allocation_failure_line, error_line
from taco.errors import TextEncoderUnavailable
from taco.memory import OutOfMemoryError, allocation_failure
from taco.models import create_model
from taco.text import clear_text_encoder_cache, clip
from taco.text.minilm import MiniLMTextEncoder
from taco.text.weights import load_torch_file, loading_out_of_memory

_UNMAPPED = ("unable to mmap 90868376 bytes from file </x/model.safetensors>: "
             "Cannot allocate memory (12)")


@pytest.fixture(scope="module")
def minilm_tiny():
    return create_model("taco-minilm-tiny", seed=0)


@pytest.fixture()
def unmappable_weights(monkeypatch):
    """MiniLM's weights cannot be mapped (as under ``ulimit -v``): the loader's own error."""
    def safe_open(*args, **kwargs):
        raise RuntimeError(_UNMAPPED)

    clear_text_encoder_cache()  # a MiniLM another test loaded is not loaded again
    monkeypatch.setattr(safetensors, "safe_open", safe_open)
    yield
    clear_text_encoder_cache()


def _loader_line() -> str:
    from taco.text.minilm import minilm_path

    return f"out of memory loading the text encoder's weights in {minilm_path()!r}: could not map 86.7 MiB"


def test_compress_says_the_loaders_line_unchanged(minilm_tiny, unmappable_weights):
    image = Image.new("RGB", (64, 48), (120, 30, 200))
    with pytest.raises(OutOfMemoryError) as caught:
        taco.compress(image, "a purple wall", minilm_tiny)
    assert str(caught.value) == _loader_line()
    assert caught.value.__cause__ is None


def test_compress_batch_says_the_loaders_line_unchanged(minilm_tiny, unmappable_weights):
    images = [Image.new("RGB", (64, 48), (120, 30, 200))] * 2
    with pytest.raises(OutOfMemoryError) as caught:
        taco.compress_batch(images, ["a wall", "a door"], minilm_tiny)
    assert str(caught.value) == _loader_line()


def test_a_taco_out_of_memory_in_the_encoding_passes_through(minilm_tiny, monkeypatch):
    said = "out of memory loading the text encoder's weights in '/x': an allocation failed"

    def load(model, **kwargs):
        raise OutOfMemoryError(said)

    monkeypatch.setattr(codec, "model_text_encoder", load)
    image = Image.new("RGB", (64, 48))
    for code in (lambda: taco.compress(image, "a cat", minilm_tiny),
                 lambda: taco.compress_batch([image], ["a cat"], minilm_tiny)):
        with pytest.raises(OutOfMemoryError) as caught:
            code()
        assert str(caught.value) == said


def test_the_encoders_own_allocation_failures_are_still_wrapped():
    oom = codec.encoding_out_of_memory(MemoryError(), "a 4x4 image (16 pixels)")
    assert oom is not None and str(oom).startswith("out of memory encoding a 4x4 image (16 pixels): "
                                                   "an allocation failed; a smaller stripe_budget=")
    already = OutOfMemoryError("out of memory loading X: could not map 1.0 MiB")
    assert codec.encoding_out_of_memory(already, "a 4x4 image (16 pixels)", batch=True) is already
    assert codec.encoding_out_of_memory(RuntimeError("shapes differ"), "a 4x4 image") is None


def test_decoding_passes_taco_out_of_memory_through(tiny_elic, monkeypatch):
    data = taco.compress(Image.new("RGB", (32, 32), (10, 200, 40)), None, tiny_elic)
    said = "out of memory loading something: an allocation failed"

    def synthesize(*args, **kwargs):
        raise OutOfMemoryError(said)

    monkeypatch.setattr(codec, "synthesize", synthesize)
    with pytest.raises(OutOfMemoryError) as caught:
        taco.decompress(data, tiny_elic)
    assert str(caught.value) == said

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(codec, "synthesize", no_memory)
    with pytest.raises(OutOfMemoryError, match=r"^out of memory decoding a 32x32 image"):
        taco.decompress(data, tiny_elic)


@pytest.mark.parametrize(("text", "said"), [
    (_UNMAPPED, "could not map 86.7 MiB"),
    ("unable to mmap 4294967296 bytes from file <m.bin>: Cannot allocate memory (12)", "could not map 4.0 GiB"),
    ("unable to mmap 512 bytes from file <m.bin>: Cannot allocate memory (12)", "could not map 512 bytes"),
])
def test_a_file_torch_could_not_map_is_an_allocation_failure(text, said):
    assert allocation_failure(RuntimeError(text)) == said
    assert allocation_failure_line(RuntimeError(text)) == f"out of memory: {said}"
    assert str(loading_out_of_memory(RuntimeError(text), "W")) == f"out of memory loading W: {said}"


@pytest.mark.parametrize("text", [
    "unable to mmap 12 bytes from file </x>: Invalid argument (22)",
    "unable to mmap 12 bytes from file </x>: Permission denied (13)",
    "Cannot allocate memory (12)",  # no size, no mmap: not torch's words for a file
])
def test_other_mmap_failures_are_not(text):
    assert allocation_failure(RuntimeError(text)) is None
    assert loading_out_of_memory(RuntimeError(text), "W") is None


def test_a_checkpoint_torch_could_not_map_is_not_a_bad_file(tmp_path, monkeypatch):
    import safetensors.torch

    from taco.shards import ShardedFileError, load_sharded

    path = tmp_path / "w.safetensors"
    safetensors.torch.save_file({"w": torch.zeros(2)}, str(path))
    assert set(load_sharded(path)[0]) == {"w"}

    def load(*args, **kwargs):
        raise RuntimeError(_UNMAPPED)

    monkeypatch.setattr(safetensors.torch, "load", load)
    with pytest.raises(RuntimeError) as caught:  # was "not a safetensors file (unable to mmap ...)"
        load_sharded(path)
    assert not isinstance(caught.value, ShardedFileError)
    assert allocation_failure_line(caught.value) == "out of memory: could not map 86.7 MiB"


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


def test_a_text_encoder_built_out_of_memory_is_out_of_memory(tmp_path):
    """load_network's build (from the folder's config.json) failing for want of memory is a
    taco.OutOfMemoryError naming the folder, not 'no usable config.json'."""
    from taco.text.weights import load_network

    def build():  # noqa: ANN202
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 90868376 bytes")

    with pytest.raises(taco.OutOfMemoryError) as caught:
        load_network(build, tmp_path, lambda name: name, "MiniLM")
    said = str(caught.value)
    assert said.startswith("out of memory loading the text encoder's weights in ")
    assert repr(os.fspath(tmp_path)) in said and "config.json" not in said


@pytest.mark.parametrize(("wanted", "hostile"), [(256 * 2**30, True), (2**20, False)])
def test_an_allocation_far_past_a_torch_files_size_is_no_memory_advice(tmp_path, monkeypatch, wanted, hostile):
    from taco.text.weights import load_torch_file

    path = tmp_path / "bomb.pth.tar"  # a 415-byte legacy pickle declaring a 256 GiB storage
    path.write_bytes(b"x" * 415)

    def load(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError(f"DefaultCPUAllocator: can't allocate memory: you tried to allocate {wanted} bytes.")

    monkeypatch.setattr(torch, "load", load)
    if hostile:
        with pytest.raises(ValueError) as refused:
            load_torch_file(path)
        assert str(refused.value) == ("it declares 256.0 GiB in a 415-byte file: not a checkpoint "
                                      "(corrupt or hostile)")
    else:  # within what a file of its size may hold: memory it is
        with pytest.raises(taco.OutOfMemoryError, match="out of memory loading"):
            load_torch_file(path)


def test_a_torch_error_naming_bytes_that_is_no_allocation_failure_is_not_called_hostile(tmp_path, monkeypatch):
    """Only a failed allocation is measured against the file's size: another error whose text
    happens to say "allocate N bytes" is said as torch's error, not as a hostile file."""
    from taco.text.weights import load_torch_file

    path = tmp_path / "odd.pth.tar"
    path.write_bytes(b"x" * 415)

    def load(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError(f"PytorchStreamReader: refusing to allocate {256 * 2**30} bytes for record 'data/0'")

    monkeypatch.setattr(torch, "load", load)
    with pytest.raises(Exception) as refused:  # noqa: PT011 - torch's own error, said as such
        load_torch_file(path)
    assert "declares" not in str(refused.value) and "hostile" not in str(refused.value)
    assert not isinstance(refused.value, taco.OutOfMemoryError)
