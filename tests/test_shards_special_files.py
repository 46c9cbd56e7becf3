"""Review HC 5 and 6: a shard of a sharded checkpoint that is a named pipe (or a link to one, or
to a device) is refused before it is opened, where loading waited forever; importing a plain
pickle says only taco's refusal, not torch's "please file an issue" warning too."""

from __future__ import annotations

import os
import pickle
import warnings

import pytest
import torch

from taco import shards
from taco.cli import main
from taco.text.weights import load_torch_file


def _sharded(tmp_path):
    g = torch.Generator().manual_seed(0)
    tensors = {f"layer{i}.weight": torch.randn(64, 64, generator=g) for i in range(4)}
    return shards.save_sharded(tensors, tmp_path / "x.safetensors", max_bytes=40_000)


@pytest.mark.timeout(60)  # a regression would wait on the pipe for ever
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_shard_that_is_a_named_pipe_is_refused_unopened(tmp_path):
    written = _sharded(tmp_path)
    index, shard = written[0], written[-1]
    shard.unlink()
    os.mkfifo(shard)  # no writer: its open waited forever
    words = f"{index}: shard {shard.name} is not a regular file (a pipe, a device or a socket)"
    for read in (shards.load_sharded, shards.tensor_shapes):
        with pytest.raises(shards.ShardedFileError) as e:
            read(tmp_path / "x.safetensors")
        assert str(e.value) == words


@pytest.mark.timeout(60)  # a regression would read the device for ever
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="a device")
def test_a_shard_linking_to_a_device_is_refused(tmp_path):
    written = _sharded(tmp_path)
    shard = written[1]
    shard.unlink()
    shard.symlink_to("/dev/zero")
    with pytest.raises(shards.ShardedFileError, match=f"shard {shard.name} is not a regular file"):
        shards.load_sharded(written[0])


def test_a_plain_pickle_is_refused_without_torchs_warning(tmp_path, capsys):
    path = tmp_path / "plain.pth"
    with open(path, "wb") as f:
        pickle.dump({"a": 1}, f, protocol=4)  # torch warned of protocol 4 before refusing it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="not a readable PyTorch checkpoint"):
            load_torch_file(path)
    assert main(["import-checkpoint", str(path), "-o", str(tmp_path / "out.safetensors")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "warning" not in err.lower() and "file an issue" not in err, err
    assert "not a readable PyTorch checkpoint" in err


class _ReadFails:
    """A file opened for reading whose read fails the test: a file as ``/proc/kmsg`` is, 0 bytes
    to ``stat`` and a read that waits for ever (as root)."""

    def __init__(self, f):  # noqa: ANN001
        self._f = f

    def __enter__(self):  # noqa: ANN204
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self._f.close()

    def fileno(self) -> int:
        return self._f.fileno()

    def read(self, *args) -> bytes:  # noqa: ANN002
        raise AssertionError(f"read {self._f.name}, which stat calls empty (/proc/kmsg blocks)")

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._f, name)


def _reads_of(monkeypatch, target):  # noqa: ANN001, ANN202
    """Every open of ``target`` gives a file whose read fails the test."""
    import builtins
    import io

    real = io.open

    def opening(file, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        f = real(file, *args, **kwargs)
        same = isinstance(file, str | os.PathLike) and os.path.abspath(file) == os.path.abspath(target)
        return _ReadFails(f) if same else f

    monkeypatch.setattr(io, "open", opening)
    monkeypatch.setattr(builtins, "open", opening)


@pytest.mark.parametrize("words", [["models"], ["compress", "-m"]])
def test_a_checkpoint_stat_calls_empty_is_refused_unread(tmp_path, monkeypatch, capsys, words):
    empty = tmp_path / "model.safetensors"  # a link to /proc/kmsg: 0 bytes, its read blocks
    empty.touch()
    args = [*words, str(empty)]
    if words[0] == "compress":
        photo = tmp_path / "p.png"
        photo.write_bytes(b"\x89PNG\r\n\x1a\n")
        args += [str(photo), "-o", str(tmp_path / "p.taco")]
    _reads_of(monkeypatch, empty)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert (f"{empty}: not a safetensors file (0 bytes, too short for the 8 that give its header's "
            "length)") in err


def test_a_shard_stat_calls_empty_is_refused_unread(tmp_path, monkeypatch):
    written = _sharded(tmp_path)
    index, shard = written[0], written[1]
    shard.write_bytes(b"")
    _reads_of(monkeypatch, shard)
    for read in (shards.load_sharded, shards.tensor_shapes):
        with pytest.raises(shards.ShardedFileError) as e:
            read(tmp_path / "x.safetensors")
        assert str(e.value) == (f"{index}: shard {shard.name} cannot be read (0 bytes, too short "
                                "for the 8 that give its header's length)")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="a character device to read")
def test_file_head_reads_a_file_that_is_not_regular_up_to_the_size_asked(tmp_path):
    """Only a regular file's size bounds the read (a device's stat says 0 bytes, and its bytes
    are read); a regular file gives what it holds, no more."""
    from taco.filekinds import file_head

    assert file_head("/dev/zero", 16) == b"\0" * 16
    short = tmp_path / "short.bin"
    short.write_bytes(b"abc")
    assert file_head(short, 16) == b"abc"
    assert file_head(tmp_path / "short.bin", 2) == b"ab"


def test_a_shard_one_byte_short_of_the_header_length_is_refused_from_its_size(tmp_path, monkeypatch):
    """Seven bytes are still too few for the 8 that give the header's length: refused from its
    size, unread, like an empty one."""
    written = _sharded(tmp_path)
    index, shard = written[0], written[1]
    shard.write_bytes(b"\x08" * 7)
    _reads_of(monkeypatch, shard)
    with pytest.raises(shards.ShardedFileError) as e:
        shards.load_sharded(tmp_path / "x.safetensors")
    assert str(e.value) == (f"{index}: shard {shard.name} cannot be read (7 bytes, too short "
                            "for the 8 that give its header's length)")
