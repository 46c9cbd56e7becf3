"""A text encoder's folder whose files are named pipes (``tar x`` makes them), devices or
sockets: each is refused unopened, naming it, where an open of a named pipe waited for ever; and
MiniLM's tokenizer.json is read within the one bound CLIP's is read within."""

from __future__ import annotations

import builtins
import io
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from torch import nn

from taco.text import clip, minilm, weights
from taco.text.base import TextEncoderUnavailable

pytestmark = [pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes"),
              pytest.mark.timeout(120)]  # a regression that opens a pipe fails, not waits: see below

PIPE = "not a regular file (a pipe, a device or a socket)"


@pytest.fixture(autouse=True)
def _pipes_not_opened(monkeypatch):
    """Python's open of a named pipe fails the test rather than waiting for a writer."""
    real = io.open

    def opening(file, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if isinstance(file, str | os.PathLike):
            try:
                fifo = stat.S_ISFIFO(os.stat(file).st_mode)
            except OSError:
                fifo = False
            assert not fifo, f"opened the named pipe {file}"
        return real(file, *args, **kwargs)

    monkeypatch.setattr(io, "open", opening)
    monkeypatch.setattr(builtins, "open", opening)


def _minilm_folder(tmp_path: Path, pipe: str) -> Path:
    folder = tmp_path / "enc"
    folder.mkdir()
    for file in Path(minilm.minilm_path()).iterdir():
        (folder / file.name).symlink_to(file)
    (folder / pipe).unlink()
    os.mkfifo(folder / pipe)
    return folder


@pytest.mark.parametrize("pipe", ["config.json", "tokenizer.json", "model.safetensors"])
def test_a_minilm_file_that_is_a_named_pipe_is_refused_unopened(tmp_path, pipe):
    folder = _minilm_folder(tmp_path, pipe)
    with pytest.raises(TextEncoderUnavailable) as refused:
        minilm.MiniLMTextEncoder(folder)
    assert str(refused.value) == f"MiniLM: {str(folder / pipe)!r}: {PIPE}"


@pytest.mark.parametrize("pipe", ["config.json", "tokenizer.json", "model.safetensors", "merges.txt"])
def test_a_clip_file_that_is_a_named_pipe_is_refused_unopened(tmp_path, pipe):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "vocab.json", "merges.txt"):
        (tmp_path / name).write_text("{}")
    (tmp_path / pipe).unlink()
    os.mkfifo(tmp_path / pipe)
    with pytest.raises(TextEncoderUnavailable) as refused:
        clip.CLIPTextEncoder(tmp_path)
    assert str(refused.value).startswith(f"CLIP: {str(tmp_path / pipe)!r}: {PIPE}. To fix:")
    if pipe == "config.json":  # the reader of the width an adapter is built for, too
        with pytest.raises(TextEncoderUnavailable) as refused:
            clip.clip_text_config(tmp_path)
        assert str(refused.value) == f"{str(tmp_path / pipe)!r}: {PIPE}"


@pytest.mark.parametrize("pipe", ["model.safetensors", "pytorch_model.bin", "model-00001-of-00001.safetensors"])
def test_a_weight_file_that_is_a_named_pipe_is_not_said_to_be_missing(tmp_path, pipe):
    if pipe.startswith("model-"):  # a shard its index names
        (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"weight": pipe}}))
    os.mkfifo(tmp_path / pipe)  # was: "holds no weights"; a shard's sniff for text waited for ever
    with pytest.raises(TextEncoderUnavailable) as refused:
        weights.load_network(lambda: nn.Linear(2, 2), tmp_path, str, "a linear layer")
    assert str(refused.value) == f"{str(tmp_path / pipe)!r}: {PIPE}"


def test_minilm_tokenizer_json_is_read_within_the_bound(tmp_path, monkeypatch):
    file = tmp_path / "tokenizer.json"
    shutil.copyfile(Path(minilm.minilm_path()) / "tokenizer.json", file)
    assert minilm.WordPieceTokenizer(file).vocab_size == 30522  # within it: read
    monkeypatch.setattr(minilm, "TOKENIZER_MAX_BYTES", 1000)  # (a link to /proc/self/pagemap: 4.7 GB)
    with pytest.raises(TextEncoderUnavailable) as refused:
        minilm.WordPieceTokenizer(file)
    assert str(refused.value) == (f"{str(file)!r}: not a readable tokenizer.json ({file.stat().st_size:,} "
                                  "bytes, over the 1,000 taco reads)")


def test_one_tokenizer_bound():
    assert clip.TOKENIZER_MAX_BYTES is minilm.TOKENIZER_MAX_BYTES is weights.TOKENIZER_MAX_BYTES


def test_any_weight_file_in_a_minilm_folder_that_is_a_named_pipe_is_refused_unopened(tmp_path):
    """Every weight file of the folder is looked at before any is opened, not only the names
    the loaders know (a shard, another checkpoint beside them)."""
    folder = tmp_path / "enc"
    folder.mkdir()
    for file in Path(minilm.minilm_path()).iterdir():
        (folder / file.name).symlink_to(file)
    os.mkfifo(folder / "extra.safetensors")
    with pytest.raises(TextEncoderUnavailable) as refused:
        minilm.MiniLMTextEncoder(folder)
    assert str(refused.value) == f"MiniLM: {str(folder / 'extra.safetensors')!r}: {PIPE}"


def test_a_tokenizer_json_over_16_mib_is_refused_unread(tmp_path):
    """The bound is 16 MiB (CLIP's vocabulary, the largest, has 1.7 MB): a 17 MiB tokenizer.json
    is refused from its size, with the bound in the message."""
    file = tmp_path / "tokenizer.json"
    with open(file, "wb") as f:
        f.truncate(17 * 2**20)  # sparse: no disk
    with pytest.raises(TextEncoderUnavailable) as refused:
        minilm.WordPieceTokenizer(file)
    assert str(refused.value) == (f"{str(file)!r}: not a readable tokenizer.json (17,825,792 bytes, over the "
                                  "16,777,216 taco reads)")
