"""Text files taco reads from anyone are read within a bound: a shard index, a checkpoint's taco
header, a captions.jsonl and a sidecar caption. Oversized ones are refused in one line before
they are read whole (a 60 MB index peaked at 1.5 GB, a 98 MB header at 2.3 GB, 40 MB of blank
lines in a captions.jsonl at 1.4 GB, a 50 MB sidecar at 688 MB)."""

from __future__ import annotations

import errno
import hashlib
import json
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from taco import jsonfiles, shards
from taco.captions_file import (
    SIDECAR_MAX_CHARS,
    CaptionLookup,
    CaptionsFileError,
    read_captions_file,
    read_sidecar,
)
from taco.models import CheckpointError, header as header_module, load_checkpoint
from taco.models.header import (
    MAX_HEADER_CHARS,
    checkpoint_metadata,
    checkpoint_shapes,
    read_checkpoint_header,
)
from taco.samples import SAMPLES_DIR
from taco.text import MAX_CAPTION_CHARS

SAMPLE = SAMPLES_DIR / "skimage-chelsea.png"


def _peak_bytes(call) -> int:  # noqa: ANN001
    """The most memory Python allocated while ``call()`` ran (tracemalloc)."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------------- shard index


def test_an_index_over_the_bound_is_refused_unread(tmp_path, cli, monkeypatch):
    """A valid index padded with whitespace past INDEX_MAX_BYTES loaded before; now it is one
    line naming its size and the bound, and its JSON is never parsed."""
    path = tmp_path / "checkpoint.safetensors"
    tensors = {f"t{i}": torch.full((100,), float(i)) for i in range(8)}
    shards.save_sharded(tensors, path, {"k": "v"}, max_bytes=2_000)
    index_file = shards.index_path(path)
    assert index_file.stat().st_size < shards.INDEX_MAX_BYTES // 1000  # a real one: far under
    assert shards.read_metadata(path) == {"k": "v"}
    with index_file.open("ab") as f:
        f.write(b" " * shards.INDEX_MAX_BYTES)  # still valid JSON
    size = index_file.stat().st_size
    monkeypatch.setattr(jsonfiles, "load_json", lambda text: pytest.fail("the index was parsed"))
    for read in (shards.read_metadata, shards.tensor_shapes, shards.load_sharded):
        with pytest.raises(shards.ShardedFileError) as err:
            read(path)
        assert str(err.value) == (f"{index_file}: a shard index of {size:,} bytes, over the "
                                  f"{shards.INDEX_MAX_BYTES:,} taco reads (a real one is a few KB)")
    status, out = cli("models", str(path))
    assert status == 2 and f"{size:,} bytes" in out


# --------------------------------------------------------------------------- checkpoint header


def test_a_taco_header_over_the_bound_is_refused_unparsed(tmp_path, tiny_checkpoint, cli, monkeypatch):
    """A real header padded with spaces past MAX_HEADER_CHARS loaded before."""
    _, _, header = tiny_checkpoint
    assert len(json.dumps(header)) < MAX_HEADER_CHARS // 100  # a real one: about 2 kB
    text = json.dumps(header) + " " * MAX_HEADER_CHARS
    bad = tmp_path / "h.safetensors"
    save_file(tiny_checkpoint[1], str(bad), metadata={"taco": text})
    monkeypatch.setattr(header_module, "json_object", lambda text: pytest.fail("the header was parsed"))
    for read in (read_checkpoint_header, load_checkpoint):
        with pytest.raises(CheckpointError) as err:
            read(bad)
        assert str(err.value) == (f"{bad}: corrupt taco header ({len(text):,} characters, over the "
                                  f"{MAX_HEADER_CHARS:,} taco reads; a real one is about 2,000)")
    status, out = cli("models", str(bad))
    assert status == 2 and "characters, over the" in out


@pytest.mark.parametrize("exc", [
    MemoryError(),
    OSError(errno.ENOMEM, "Cannot allocate memory"),
    Exception("Cannot allocate memory (os error 12)"),  # safetensors' words for a failed mapping
])
def test_running_out_of_memory_is_not_called_a_bad_file(tmp_path, tiny_checkpoint, monkeypatch, exc):
    """Each was 'not a safetensors file (...)', a MemoryError with nothing in the parentheses."""
    path = tiny_checkpoint[0]

    def fail(_path, **_found):  # noqa: ANN001, ANN003, ANN202
        raise exc

    monkeypatch.setattr(header_module, "read_metadata", fail)
    with pytest.raises(CheckpointError) as err:
        checkpoint_metadata(path)
    assert str(err.value) == f"out of memory reading {path}"


def _with_header_size(src: Path, dst: Path, size: int) -> None:
    """``src`` with its safetensors header padded with spaces (still valid JSON) to ``size``."""
    data = src.read_bytes()
    n = int.from_bytes(data[:8], "little")
    dst.write_bytes(size.to_bytes(8, "little") + data[8 : 8 + n] + b" " * (size - n) + data[8 + n :])


def test_a_safetensors_header_over_the_bound_is_refused_before_safetensors(tmp_path, tiny_checkpoint,
                                                                          cli, monkeypatch):
    """safetensors reads a header of up to 100 MB itself: a 90 MB one peaked at 0.9 GB before
    taco's own checks refused it. Now its 8-byte length is read first, in a plain file and in a
    shard, and safetensors is never called."""
    import safetensors
    import safetensors.torch

    path = tiny_checkpoint[0]
    real = int.from_bytes(path.read_bytes()[:8], "little")
    assert real < shards.SAFETENSORS_HEADER_MAX_BYTES // 100
    fine = tmp_path / "fine.safetensors"
    _with_header_size(path, fine, shards.SAFETENSORS_HEADER_MAX_BYTES)  # at the bound: it loads
    assert load_checkpoint(fine).config == load_checkpoint(path).config
    big = tmp_path / "big.safetensors"
    size = shards.SAFETENSORS_HEADER_MAX_BYTES + 1
    _with_header_size(path, big, size)
    sharded = tmp_path / "sharded.safetensors"
    shards.save_sharded(tiny_checkpoint[1], sharded, {"taco": json.dumps(tiny_checkpoint[2])},
                        max_bytes=1_000_000)
    index = shards.index_path(sharded)
    first = tmp_path / json.loads(index.read_text())["shards"][0]["file"]
    _with_header_size(first, first, size)
    entries = json.loads(index.read_text())
    entries["shards"][0]["sha256"] = hashlib.sha256(first.read_bytes()).hexdigest()
    index.write_text(json.dumps(entries))

    def never(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        pytest.fail("safetensors was called")

    for module, name in ((safetensors, "safe_open"), (safetensors.torch, "load"),
                         (safetensors.torch, "load_file")):
        monkeypatch.setattr(module, name, never)
    plain = (f"{big}: a safetensors header of {size:,} bytes, over the "
             f"{shards.SAFETENSORS_HEADER_MAX_BYTES:,} taco reads (the built-ins' are about 40 kB)")
    for read in (read_checkpoint_header, load_checkpoint, checkpoint_shapes):
        with pytest.raises(CheckpointError) as err:
            read(big)
        assert str(err.value) == plain
    for read in (shards.tensor_shapes, shards.load_sharded):
        with pytest.raises(shards.ShardedFileError) as err:
            read(sharded)
        assert str(err.value) == plain.replace(f"{big}:", f"{index}: shard {first.name} has")
    monkeypatch.undo()
    status, out = cli("models", str(big))
    assert status == 2 and plain in out


def test_a_bad_file_is_still_not_a_safetensors_file(tmp_path):
    bad = tmp_path / "x.safetensors"
    bad.write_bytes(b"\x08" + b"\0" * 7 + b"not json")
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        checkpoint_metadata(bad)


# --------------------------------------------------------------------------- captions.jsonl


def test_a_captions_file_is_read_line_by_line(tmp_path):
    """A malformed first line is reported without reading on: the bytes after it, which are not
    UTF-8, are never decoded (reading the file whole said 'not UTF-8 text')."""
    path = tmp_path / "captions.jsonl"
    path.write_bytes(b"{not json\n" + b"\n" * 1_000_000 + b"\xff\n")
    with pytest.raises(CaptionsFileError, match=r"captions\.jsonl:1: expected"):
        read_captions_file(path)
    path.write_bytes(b"\n" * 1_000_000 + b"\xff\n")  # reaching them is still the same error
    with pytest.raises(CaptionsFileError, match=r"captions\.jsonl:1000001: not UTF-8 text"):
        read_captions_file(path)


def test_bytes_that_are_not_utf8_name_their_line(tmp_path, cli):
    """The decoder reads in chunks, so the error said only 'PATH: not UTF-8 text'."""
    shutil.copy(SAMPLE, tmp_path / "a.png")
    path = tmp_path / "caps.jsonl"
    path.write_bytes(b'{"image": "b.png", "caption": "x"}\n' * 3_000
                     + '{"image": "a.png", "caption": "café"}\n'.encode("latin-1"))
    with pytest.raises(CaptionsFileError) as err:
        read_captions_file(path)
    assert str(err.value) == f"{path}:3001: not UTF-8 text (byte 0xe9 at column 35)"
    status, out = cli("compress", str(tmp_path / "a.png"), "--captions", str(path), "-m", "taco-tiny")
    assert status == 2 and f"{path}:3001: not UTF-8 text" in out


def test_blank_lines_take_no_memory(tmp_path):
    """Held as a list, 1 MB of blank lines took some 20 MB (40 MB peaked at 1.4 GB)."""
    path = tmp_path / "captions.jsonl"
    path.write_text('{"image": "a.png", "caption": "a cat"}\n' + "  \n" * 350_000, encoding="utf-8")
    peak = _peak_bytes(lambda: read_captions_file(path))
    assert peak < 1_000_000
    assert read_captions_file(path).records[0].captions == ("a cat",)


@pytest.mark.parametrize(("line", "words"), [
    ('{"image": "a.png", "captions": ' + "[" * 200_000 + "]" * 200_000 + "}", "nested too deeply"),
    ('{"image": "a.png", "captions": ' + "9" * 5_000 + "}", "a number with too many digits"),
])
def test_hostile_json_lines_are_one_error_naming_the_line(tmp_path, cli, line, words):
    """A RecursionError and a ValueError telling the user to change Python, with tracebacks."""
    shutil.copy(SAMPLE, tmp_path / "a.png")
    path = tmp_path / "caps.jsonl"
    path.write_text('{"image": "b.png", "caption": "x"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(CaptionsFileError) as err:
        read_captions_file(path)
    assert str(err.value) == f'{path}:2: expected {{"image": ..., "captions": [...]}} ({words})'
    status, out = cli("compress", str(tmp_path / "a.png"), "--captions", str(path), "-m", "taco-tiny")
    assert status == 2 and f"{path}:2: expected" in out and words in out


# --------------------------------------------------------------------------- sidecar IMAGE.txt


def test_a_sidecar_is_read_up_to_the_bound_in_characters(tmp_path):
    """SIDECAR_MAX_CHARS two-byte characters (twice as many bytes) are read; one more is refused."""
    assert SIDECAR_MAX_CHARS > MAX_CAPTION_CHARS  # the caption's own bound refuses it on encoding
    path = tmp_path / "a.txt"
    path.write_text("\ufeff " + "é" * (SIDECAR_MAX_CHARS - 2) + "\n", encoding="utf-8")  # BOM not counted
    assert read_sidecar(path) == "é" * (SIDECAR_MAX_CHARS - 2)
    path.write_text(" " + "é" * SIDECAR_MAX_CHARS, encoding="utf-8")
    with pytest.raises(CaptionsFileError) as err:
        read_sidecar(path)
    assert str(err.value) == (f"{path}: the caption has over {SIDECAR_MAX_CHARS:,} characters, "
                              "far more than a caption may have; shorten it")


def test_a_long_sidecar_is_not_read_whole(tmp_path, cli):
    """A 50 MB sidecar was read whole (688 MB peak) before the caption's bound refused it."""
    shutil.copy(SAMPLE, tmp_path / "a.png")
    sidecar = tmp_path / "a.txt"
    sidecar.write_text("€" * (8 * SIDECAR_MAX_CHARS), encoding="utf-8")  # 24 MB
    lookup = CaptionLookup()
    with pytest.raises(CaptionsFileError, match="far more than a caption may have"):
        lookup.find(tmp_path, "a.png")
    peak = _peak_bytes(lambda: pytest.raises(CaptionsFileError, read_sidecar, sidecar))
    assert peak < sidecar.stat().st_size  # 12 MB, what the bound's characters take; 96 MB read whole
    status, out = cli("compress", str(tmp_path / "a.png"), "-m", "taco-tiny")
    assert status == 2 and f"{sidecar}: the caption has over" in out


# --------------------------------------------------------------------------- .taco files


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS bounds memory on Linux")
def test_a_small_taco_file_declaring_a_huge_image_reads_in_little_memory(tmp_path):
    """A valid 126-byte file declaring 32768x32768 (a bound of 8 GiB): ``taco info`` asked the
    open file for 8 GiB at once and, under a 1 GiB address-space limit, said "out of memory"."""
    from taco.bitstream.container import MAX_SIDE, TacoHeader, pack

    path = tmp_path / "huge.taco"
    path.write_bytes(pack(TacoHeader("elic-small-q4", bytes(8), MAX_SIDE, MAX_SIDE, "RGB"), bytes(100)))
    limit = ("import resource, sys; from taco.cli import main; "
             "hard = resource.getrlimit(resource.RLIMIT_AS)[1]; "
             "soft = 1 << 30 if hard == resource.RLIM_INFINITY else min(1 << 30, hard); "
             "resource.setrlimit(resource.RLIMIT_AS, (soft, hard)); "
             "sys.exit(main(['info', sys.argv[1]]))")
    run = subprocess.run([sys.executable, "-c", limit, str(path)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert "width: 32768" in run.stdout and "bytes: 126" in run.stdout
