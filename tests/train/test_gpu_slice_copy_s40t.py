"""scripts/gpu_slice.py sync decided "already copied" by OUT's copy being as new as the run's
file: a checkpoint atomically replaced (same size) while it was being copied left OUT with the
older one for good, as the copy was written after the replacement. The copy now carries the
source's (size, mtime) from before the copy and is skipped only while both still match."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def gpu_slice(load_script):
    return load_script("scripts/gpu_slice.py")


def _replace(path: Path, data: bytes, mtime_ns: int) -> None:
    """A trainer's atomic save: a new file renamed over ``path``."""
    tmp = path.with_name(".new")
    tmp.write_bytes(data)
    os.utime(tmp, ns=(mtime_ns, mtime_ns))
    os.replace(tmp, path)


def test_a_checkpoint_replaced_during_its_copy_is_copied_again(gpu_slice, monkeypatch, tmp_path):
    run, out = tmp_path / "run", tmp_path / "out"
    run.mkdir()
    src = run / "checkpoint.safetensors"
    _replace(src, b"old" * 100, 1_700_000_000_000_000_000)
    real_copyfile = gpu_slice.shutil.copyfile

    def copy_while_saving(a: str | Path, b: str | Path) -> None:
        data = Path(a).read_bytes()  # the copy has opened the old file ...
        _replace(src, b"new" * 100, 1_700_000_001_000_000_000)  # ... the trainer saves ...
        Path(b).write_bytes(data)  # ... and the copy ends after it, with the old bytes

    monkeypatch.setattr(gpu_slice.shutil, "copyfile", copy_while_saving)
    gpu_slice.sync(run, out, [])
    assert (out / "ckpt" / src.name).read_bytes() == b"old" * 100
    monkeypatch.setattr(gpu_slice.shutil, "copyfile", real_copyfile)
    gpu_slice.sync(run, out, [])
    assert (out / "ckpt" / src.name).read_bytes() == b"new" * 100


def test_an_unchanged_checkpoint_is_not_copied_again(gpu_slice, monkeypatch, tmp_path):
    run, out = tmp_path / "run", tmp_path / "out"
    run.mkdir()
    src = run / "checkpoint.safetensors"
    _replace(src, b"a" * 300, 1_700_000_000_000_000_000)
    gpu_slice.sync(run, out, [])
    copy = out / "ckpt" / src.name
    assert copy.stat().st_mtime_ns == src.stat().st_mtime_ns

    def no_copy(a: Path, b: Path) -> None:
        raise AssertionError(f"copied {a} again")

    monkeypatch.setattr(gpu_slice, "_copy", no_copy)
    gpu_slice.sync(run, out, [])


def test_an_older_file_of_the_same_size_is_copied(gpu_slice, tmp_path):
    """The old test (target at least as new as the source) skipped a run file put back older."""
    run, out = tmp_path / "run", tmp_path / "out"
    run.mkdir()
    src = run / "checkpoint.safetensors"
    _replace(src, b"a" * 300, 1_700_000_000_000_000_000)
    gpu_slice.sync(run, out, [])
    _replace(src, b"b" * 300, 1_600_000_000_000_000_000)
    gpu_slice.sync(run, out, [])
    assert (out / "ckpt" / src.name).read_bytes() == b"b" * 300
