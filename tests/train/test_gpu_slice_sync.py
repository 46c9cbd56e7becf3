"""scripts/gpu_slice.py sync: a machine taken back at any point of a copy, or a trainer saving
while it copies, leaves OUT/ckpt holding a whole checkpoint (the previous one or the new one).
It wrote the index first: a stop after that first copy left an index naming shards OUT lacked.
A checkpoint atomically replaced (same size) while it was being copied is copied again: the copy
carries the source's (size, mtime) from before the copy and is skipped only while both still match
(it was skipped as soon as OUT's copy was as new as the run's file)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from taco import shards


@pytest.fixture
def gpu_slice(load_script):
    return load_script("scripts/gpu_slice.py")


def _save(run: Path, seed: int, sharded: bool = True) -> dict[str, torch.Tensor]:
    """A trainer's save: a new checkpoint in ``run`` (shards of a new tag + index, or one file)."""
    g = torch.Generator().manual_seed(seed)
    tensors = {f"w{i}": torch.randn(64, 64, generator=g).half() for i in range(6)}
    shards.save_sharded(tensors, run / "checkpoint.safetensors", {"seed": str(seed)},
                        max_bytes=20_000 if sharded else None)  # fmt: skip
    return tensors


def _held(out: Path) -> str:
    """The seed of the checkpoint OUT/ckpt holds, loaded in full (its shards checked)."""
    return shards.load_sharded(out / "ckpt" / "checkpoint.safetensors")[1]["seed"]


def _stopping_after(gpu_slice, monkeypatch, copies: int) -> None:
    real, done = gpu_slice._copy, [0]

    def copy(src: Path, dst: Path) -> None:
        real(src, dst)
        done[0] += 1
        if done[0] == copies:
            raise SystemExit("machine taken back")

    monkeypatch.setattr(gpu_slice, "_copy", copy)


@pytest.mark.parametrize("sharded_before", [True, False])
@pytest.mark.parametrize("copies", [1, 2, 3])
def test_a_stop_mid_sync_leaves_a_whole_checkpoint(gpu_slice, monkeypatch, tmp_path, copies, sharded_before):
    run, out = tmp_path / "run", tmp_path / "out"
    run.mkdir()
    _save(run, 0, sharded=sharded_before)
    gpu_slice.sync(run, out, [])
    assert _held(out) == "0"
    _save(run, 1)  # three shards and an index
    _stopping_after(gpu_slice, monkeypatch, copies)
    with pytest.raises(SystemExit):
        gpu_slice.sync(run, out, [])
    assert _held(out) == "0"  # the index is written after the shards it names
    monkeypatch.undo()
    gpu_slice.sync(run, out, [])
    assert _held(out) == "1"
    assert len(list((out / "ckpt").iterdir())) == 4  # the old files gone: an index + 3 shards


def test_a_stop_after_the_index_leaves_the_new_checkpoint_whole(gpu_slice, monkeypatch, tmp_path):
    run, out = tmp_path / "run", tmp_path / "out"
    run.mkdir()
    _save(run, 0)
    gpu_slice.sync(run, out, [])
    _save(run, 1)

    def stop(path: Path) -> None:
        raise SystemExit("machine taken back")

    monkeypatch.setattr(Path, "unlink", stop)  # the old shards' removal, the last step
    with pytest.raises(SystemExit):
        gpu_slice.sync(run, out, [])
    monkeypatch.undo()
    assert _held(out) == "1"


def test_a_save_during_the_copy_is_not_paired_with_the_older_shards(gpu_slice, monkeypatch, tmp_path):
    """Sync read the index, then copied the file by that name: a save in between brought back
    the newer index with the older shards."""
    run, out = tmp_path / "run", tmp_path / "out"
    run.mkdir()
    _save(run, 0)
    gpu_slice.sync(run, out, [])
    _save(run, 1)
    real, saved = gpu_slice._copy, []

    def copy_while_saving(src: Path, dst: Path) -> None:
        if not saved:
            saved.append(_save(run, 2))  # the trainer's next save: run's seed-1 shards go
        real(src, dst)

    monkeypatch.setattr(gpu_slice, "_copy", copy_while_saving)
    gpu_slice.sync(run, out, [])  # "changed while copying; next time"
    assert _held(out) == "0"
    gpu_slice.sync(run, out, [])
    assert _held(out) == "2"


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
