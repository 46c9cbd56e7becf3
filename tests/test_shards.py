"""taco.shards: bounded-size safetensors (one file or shards + index), and taco.load on them."""

from __future__ import annotations

import errno
import json
import math
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import taco
import taco.data
from taco import shards
from taco.errors import TacoValueError, TacoWarning
from taco.models import create_model, save_checkpoint
from taco.train.checkpoints import clear_leftovers


def _tensors() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {f"layer{i}.weight": torch.randn(64, 64, generator=g) for i in range(6)}  # 16 KiB each


def test_small_enough_is_one_plain_file(tmp_path):
    path = tmp_path / "x.safetensors"
    assert shards.save_sharded(_tensors(), path, {"k": "v"}, max_bytes=1 << 20) == [path]
    tensors, meta = shards.load_sharded(path)
    assert meta == {"k": "v"} and all(torch.equal(tensors[k], v) for k, v in _tensors().items())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.safetensors"]


def test_shards_stay_under_the_limit_and_load_back(tmp_path):
    path = tmp_path / "x.safetensors"
    written = shards.save_sharded(_tensors(), path, {"k": "v"}, max_bytes=40_000)
    index = shards.index_path(path)
    assert written[0] == index and len(written) == 4  # 2 tensors per 40 kB shard
    assert all(p.stat().st_size <= 40_000 for p in written[1:])
    assert not path.exists() and shards.find(path) == index and shards.files(path) == written
    for name in (path, index):  # the saved-as name and the index both load
        tensors, meta = shards.load_sharded(name)
        assert meta == {"k": "v"} and all(torch.equal(tensors[k], v) for k, v in _tensors().items())

    # a rewrite replaces every shard (new tag), then the old ones go
    again = shards.save_sharded(_tensors(), path, max_bytes=40_000)
    assert {p.name for p in tmp_path.iterdir()} == {p.name for p in again}
    assert not set(again[1:]) & set(written[1:])


def test_a_changed_or_missing_shard_is_refused(tmp_path):
    path = tmp_path / "x.safetensors"
    written = shards.save_sharded(_tensors(), path, max_bytes=40_000)
    data = bytearray(written[2].read_bytes())
    data[-1] ^= 1
    written[2].write_bytes(bytes(data))
    with pytest.raises(shards.ShardedFileError, match="does not match the index"):
        shards.load_sharded(path)
    written[2].unlink()
    with pytest.raises(shards.ShardedFileError, match="cannot be read"):
        shards.load_sharded(path)
    shards.index_path(path).write_text(json.dumps({"format": "taco-shards", "version": 9}))
    with pytest.raises(shards.ShardedFileError, match="version 9"):
        shards.load_sharded(path)


def test_a_tensor_larger_than_a_shard_is_refused_naming_the_size_that_holds_it(tmp_path):
    """It was a builtin ValueError naming the first tensor too large, and no size that would do."""
    tensors = {"small": torch.zeros(10), "big": torch.zeros(20_000), "mid": torch.zeros(9_000)}
    need = 80_000 + len("big") + 128 + 1024  # its bytes, its header entry and the header's room
    for limit in (40_000, need - 1):
        with pytest.raises(TacoValueError, match=rf"^tensor 'big' \(80,000 bytes\) does not fit in one "
                                                 rf"{limit:,}-byte shard: the smallest shard size that "
                                                 rf"holds every tensor is {need:,} bytes$"):
            shards.save_sharded(tensors, tmp_path / "x.safetensors", max_bytes=limit)
        assert not any(tmp_path.iterdir())  # nothing written
    written = shards.save_sharded(tensors, tmp_path / "x.safetensors", max_bytes=need)
    assert len(written) == 4 and all(p.stat().st_size <= need for p in written[1:])  # index + 3 shards
    assert all(torch.equal(t, tensors[k]) for k, t in shards.load_sharded(tmp_path / "x.safetensors")[0].items())


@pytest.mark.parametrize("limit, error, message", [
    (True, TypeError, "max_bytes must be a whole number (bytes per file) or None (no limit), not bool"),
    ("x", TypeError, "max_bytes must be a whole number (bytes per file) or None (no limit), not str"),
    (2000.5, TacoValueError, "max_bytes must be a whole number (bytes per file) or None (no limit), got 2000.5"),
    (math.nan, TacoValueError, "max_bytes must be a whole number (bytes per file) or None (no limit), got nan"),
    (math.inf, TacoValueError, "max_bytes must be a whole number (bytes per file) or None (no limit), got inf"),
    (0, TacoValueError, "max_bytes must be positive, got 0"),
    (0.0, TacoValueError, "max_bytes must be positive, got 0.0"),
    (-1, TacoValueError, "max_bytes must be positive, got -1"),
])
def test_a_shard_size_that_is_no_positive_integer_is_refused(tmp_path, limit, error, message):
    with pytest.raises(error) as caught:
        shards.save_sharded(_tensors(), tmp_path / "x.safetensors", max_bytes=limit)
    assert str(caught.value) == message and not any(tmp_path.iterdir())
    assert shards.save_sharded(_tensors(), tmp_path / "x.safetensors", max_bytes=np.int64(40_000))[0].name == (
        "x.safetensors.index.json")  # NumPy's integers taken


@pytest.mark.parametrize("limit", [40_000.0, 4e4, np.float64(4e4), np.float32(4e4)])
def test_a_shard_size_given_as_a_whole_float_is_taken_as_that_integer(tmp_path, limit):
    """3ea78c0 refused max_bytes=2000.0 as 'not float', though Python writes sizes so (2e9) and
    they were taken before: a whole float is the integer it holds."""
    path = tmp_path / "x.safetensors"
    written = shards.save_sharded(_tensors(), path, max_bytes=limit)
    as_int = shards.save_sharded(_tensors(), tmp_path / "i.safetensors", max_bytes=40_000)
    assert [p.stat().st_size for p in written[1:]] == [p.stat().st_size for p in as_int[1:]]  # the same split
    assert len(written) > 2 and all(p.stat().st_size <= 40_000 for p in written[1:])
    assert all(torch.equal(t, _tensors()[k]) for k, t in shards.load_sharded(path)[0].items())


def test_save_checkpoint_checks_max_shard_bytes_before_any_work(tmp_path):
    """max_shard_bytes=-1 said 'does not fit in one -1-byte shard', True 'one True-byte shard'
    and 'x' "'<=' not supported", each a builtin error, after the tables were rebuilt."""
    model = create_model("elic-tiny")
    path = tmp_path / "ck" / "x.safetensors"
    kind = "save_checkpoint: max_shard_bytes must be a whole number (bytes per shard) or None (one file), not"
    whole = "save_checkpoint: max_shard_bytes must be a whole number (bytes per shard) or None (one file), got"
    for limit, error, message in ((True, TypeError, f"{kind} bool"), ("x", TypeError, f"{kind} str"),
                                  (-1, TacoValueError, "save_checkpoint: max_shard_bytes must be positive, got -1"),
                                  (2000.5, TacoValueError, f"{whole} 2000.5"), (math.nan, TacoValueError, f"{whole} nan"),
                                  (math.inf, TacoValueError, f"{whole} inf")):
        with pytest.raises(error) as caught:
            save_checkpoint(model, path, max_shard_bytes=limit)
        assert str(caught.value) == message
    with pytest.raises(TacoValueError, match=r"does not fit in one 2,000-byte shard: the smallest shard size that "
                                             r"holds every tensor is ([\d,]+) bytes$") as caught:
        save_checkpoint(model, path, max_shard_bytes=2000)
    assert not any(tmp_path.iterdir())  # not even the folder
    need = int(re.search(r"is ([\d,]+) bytes$", str(caught.value)).group(1).replace(",", ""))
    save_checkpoint(model, path, max_shard_bytes=need)  # the size it names does
    assert all(f.stat().st_size <= need for f in shards.files(path)[1:])
    assert taco.load(path).config == model.config


def test_save_checkpoint_takes_a_shard_size_written_as_a_whole_float(tmp_path):
    """taco.save_checkpoint(m, 'x/x.safetensors', max_shard_bytes=2e9) saved before 3ea78c0, which
    made it a TypeError ('must be an integer ... not float'): 2e9 and 10_000_000.0 are how
    Python writes such sizes."""
    model = create_model("elic-tiny")
    one = save_checkpoint(model, tmp_path / "x" / "x.safetensors", max_shard_bytes=2e9)
    assert shards.files(one) == [one] and taco.load(one).config == model.config  # under 2 GB: one file
    split = save_checkpoint(model, tmp_path / "s" / "s.safetensors", max_shard_bytes=1_000_000.0)
    files = shards.files(split)
    assert len(files) > 2 and all(f.stat().st_size <= 1_000_000 for f in files[1:])
    assert taco.load(split).config == model.config


def test_remove_stale_keeps_the_indexed_set(tmp_path):
    path = tmp_path / "x.safetensors"
    written = shards.save_sharded(_tensors(), path, max_bytes=40_000)
    orphan = tmp_path / "x-deadbeef-00001-of-00003.safetensors"  # a write killed before its index
    orphan.write_bytes(b"half")
    temporary = tmp_path / ".x.safetensors.index.json.tmp-123"
    temporary.write_bytes(b"{")
    shards.remove_stale(path)
    assert sorted(tmp_path.iterdir()) == sorted(written)


def test_a_sharded_checkpoint_loads_like_a_file(tmp_path):
    model = create_model("taco-tiny")
    path = tmp_path / "checkpoint.safetensors"
    save_checkpoint(model, path, half=True, max_shard_bytes=1_000_000, metadata={"trained_steps": 3})
    files = shards.files(path)
    assert len(files) > 2 and all(f.stat().st_size <= 1_000_000 for f in files[1:])
    for name in (path, files[0]):
        loaded = taco.load(name)
        assert loaded.metadata["trained_steps"] == 3
        whole = {k: v for k, v in model.state_dict().items()}
        for k, v in loaded.state_dict().items():
            assert torch.equal(v, whole[k].half().float()) or torch.equal(v, whole[k]), k
    x = torch.rand(3, 64, 64)
    data = taco.compress(x, "a caption", taco.load(path))
    assert taco.decompress(data, taco.load(files[0])).size == (64, 64)


def test_tensor_shapes_reads_headers_only(tmp_path):
    tensors = {**_tensors(), "table": torch.arange(5, dtype=torch.int32), "half": torch.zeros(2, 3).half()}
    want = {k: (tuple(v.shape), {torch.float32: "F32", torch.int32: "I32", torch.float16: "F16"}[v.dtype])
            for k, v in tensors.items()}
    one, many = tmp_path / "one.safetensors", tmp_path / "many.safetensors"
    shards.save_sharded(tensors, one, max_bytes=None)
    written = shards.save_sharded(tensors, many, max_bytes=40_000)
    assert shards.tensor_shapes(one) == want
    assert shards.tensor_shapes(many) == shards.tensor_shapes(written[0]) == want
    # the data is not read: a shard with changed bytes (same header) still gives its shapes
    data = bytearray(written[2].read_bytes())
    data[-1] ^= 1
    written[2].write_bytes(bytes(data))
    assert shards.tensor_shapes(many) == want
    written[2].write_bytes(b"not safetensors")
    with pytest.raises(shards.ShardedFileError, match="cannot be read"):
        shards.tensor_shapes(many)
    written[2].unlink()
    with pytest.raises(shards.ShardedFileError, match="cannot be read"):
        shards.tensor_shapes(many)
    with pytest.raises(FileNotFoundError):
        shards.tensor_shapes(tmp_path / "none.safetensors")


def _hostile_indexes() -> dict[str, tuple]:
    """name -> (edit of a good index (dict) or the index's whole text, words of the error)."""
    import hashlib

    def extra_shard(index, folder):  # noqa: ANN001, ANN202 - a second copy of one tensor
        from safetensors.torch import save

        first = next(iter(index["weight_map"]))
        data = save({first: torch.full((64, 64), 123.0)})
        (folder / "extra.safetensors").write_bytes(data)
        index["shards"].append({"file": "extra.safetensors", "bytes": len(data),
                                "sha256": hashlib.sha256(data).hexdigest()})

    def listed(*path):  # noqa: ANN002, ANN202
        def edit(index, folder):  # noqa: ANN001, ANN202
            target = index
            for k in path[:-2]:
                target = target[k]
            target[path[-2]] = path[-1]
        return edit

    def shard_named(name):  # noqa: ANN001, ANN202
        return lambda index, folder: index["shards"][0].__setitem__("file", name)

    return {
        "nested too deeply": ("[" * 100_000, "unreadable shard index \\(nested too deeply\\)"),
        "a 5000-digit number": ('{"version": ' + "9" * 5000 + "}", "a number with too many digits"),
        "version '1'": (listed("version", "1"), "version '1' is not supported"),
        "metadata value a dict": (listed("metadata", "taco", {"format": "x"}), "malformed metadata"),
        "metadata value an int": (listed("metadata", "taco", 5), "malformed metadata"),
        "a shard listed twice": (lambda i, f: i["shards"].append(i["shards"][0]), "listed twice"),
        "a shard listed 2000 times": (lambda i, f: i["shards"].extend([i["shards"][0]] * 2000), "listed twice"),
        "a tensor in two shards": (extra_shard, "is in two shards"),
        "a shard named ..": (shard_named(".."), "not a file name in the index's folder"),
        "a shard in another folder": (shard_named("../../etc/passwd"), "not a file name"),
        "a weight map naming another folder": (listed("weight_map", {"x": "../../etc/passwd"}),
                                               "malformed weight_map"),
        "no shards": (listed("shards", []), "malformed shard list"),
    }


@pytest.mark.parametrize("name", list(_hostile_indexes()))
def test_hostile_indexes_are_refused_naming_the_index(tmp_path, name):
    """A deep index was reported as 'not a safetensors file' of another name, a dict where a
    string goes was a TypeError, and a shard listed 2000 times was read 2000 times."""
    edit, words = _hostile_indexes()[name]
    path = tmp_path / "x.safetensors"
    shards.save_sharded(_tensors(), path, {"k": "v"}, max_bytes=40_000)
    index_file = shards.index_path(path)
    if isinstance(edit, str):
        index_file.write_text(edit)
    else:
        index = json.loads(index_file.read_text())
        edit(index, tmp_path)
        index_file.write_text(json.dumps(index))
    for read in (shards.load_sharded, shards.tensor_shapes):
        with pytest.raises(shards.ShardedFileError, match=words) as err:
            read(path)
        assert str(index_file) in str(err.value)


def test_checkpoints_training_states_and_indexes_word_a_bad_header_alike(tmp_path):
    """The three JSON headers taco reads from safetensors files go through taco.jsonfiles'
    json_object and format_problem: each error names the file, then the same reason."""
    from safetensors.torch import save_file

    from taco.models.config import CheckpointError
    from taco.models.header import read_checkpoint_header
    from taco.train.state import TrainStateError, load_train_state_meta

    def with_header(name, key, text):  # noqa: ANN001, ANN202
        path = tmp_path / name
        save_file({"x": torch.zeros(1)}, str(path), metadata={key: text})
        return path

    readers = {
        "checkpoint": (read_checkpoint_header, CheckpointError, "taco", "taco-checkpoint"),
        "training state": (load_train_state_meta, TrainStateError, "taco_train_state", "taco-train-state"),
    }
    for what, (read, error, key, fmt) in readers.items():
        for text, words in (
            ("[1]", "corrupt .* \\(not a JSON object\\)"),
            (json.dumps({"format": "other", "version": 1}), f"not a taco {what}$"),
            (json.dumps({"format": fmt, "version": 7}),
             f"taco {what} version 7 is not supported \\(this taco reads version 1\\)"),
        ):
            path = with_header(f"{key}.safetensors", key, text)
            with pytest.raises(error, match=f"^{re.escape(str(path))}: {words}"):
                read(path)

    path = tmp_path / "x.safetensors"
    shards.save_sharded(_tensors(), path, {"k": "v"}, max_bytes=40_000)
    index_file = shards.index_path(path)
    index = json.loads(index_file.read_text())
    for text, words in (("[1]", "unreadable shard index \\(not a JSON object\\)"),
                        (json.dumps({**index, "format": "other"}), "not a taco shard index$"),
                        (json.dumps({**index, "version": 7}),
                         "taco shard index version 7 is not supported \\(this taco reads version 1\\)")):
        index_file.write_text(text)
        with pytest.raises(shards.ShardedFileError, match=f"^{re.escape(str(index_file))}: {words}"):
            shards.read_metadata(path)


def _two_shards(path):
    """A checkpoint of two 4000-byte tensors in two shards at ``path``."""
    return shards.save_sharded({"w": torch.ones(1000), "v": torch.zeros(1000)}, path, max_bytes=6000)


@pytest.mark.parametrize("sharded", [False, True])
def test_a_users_stem_best_file_survives_saving_and_clearing_leftovers(tmp_path, sharded):
    """Only STEM-TAG-NNNNN-of-NNNNN.safetensors files are shards: saving a checkpoint (either
    layout) and the trainer's leftover clearing leave checkpoint-best.safetensors alone."""
    mine = tmp_path / "checkpoint-best.safetensors"
    mine.write_bytes(b"the user's own file")
    path = tmp_path / shards.CHECKPOINT_FILE
    if sharded:
        _two_shards(path)
    else:
        shards.save_sharded({"w": torch.ones(10)}, path)
    clear_leftovers(tmp_path)
    assert mine.read_bytes() == b"the user's own file"
    assert shards.find(tmp_path) is not None


@pytest.mark.parametrize("newer", ["plain", "index"])
def test_the_newer_of_a_plain_file_and_an_index_wins(tmp_path, newer):
    """Both layouts of a run's checkpoint present (a write killed between its last two steps):
    find and load_sharded take the newer one, with a warning naming both (taco.shards.find's
    docstring; a file of another name is read as named: tests/test_shards_named_file.py)."""
    path = tmp_path / shards.CHECKPOINT_FILE
    other = tmp_path / "other"
    other.mkdir()
    shards.save_sharded({"w": torch.zeros(1000), "v": torch.zeros(1000)}, path, max_bytes=None)
    for f in _two_shards(other / shards.CHECKPOINT_FILE):  # ones, as an index and two shards
        shutil.copy(f, tmp_path / f.name)
    index = shards.index_path(path)
    old, new = 1_000_000_000 * 10**9, 1_000_000_100 * 10**9
    os.utime(path, ns=(new, new) if newer == "plain" else (old, old))
    os.utime(index, ns=(old, old) if newer == "plain" else (new, new))
    with pytest.warns(TacoWarning, match="holds both checkpoint.safetensors and its sharded index"):
        assert shards.find(path) == (path if newer == "plain" else index)
    with pytest.warns(TacoWarning):
        tensors, _ = shards.load_sharded(path)
    assert float(tensors["w"][0]) == (0.0 if newer == "plain" else 1.0)


def test_an_index_putting_a_tensor_in_the_wrong_shard_is_refused(tmp_path):
    path = tmp_path / "m.safetensors"
    _two_shards(path)
    index_file = shards.index_path(path)
    index = json.loads(index_file.read_text())
    weight_map = index["weight_map"]
    assert weight_map["w"] != weight_map["v"]
    weight_map["w"], weight_map["v"] = weight_map["v"], weight_map["w"]
    index_file.write_text(json.dumps(index))
    with pytest.raises(shards.ShardedFileError, match="the index's weight_map does not put there"):
        shards.load_sharded(path)


def test_an_index_listing_a_tensor_no_shard_holds_is_refused(tmp_path):
    path = tmp_path / "m.safetensors"
    _two_shards(path)
    index_file = shards.index_path(path)
    index = json.loads(index_file.read_text())
    index["weight_map"]["ghost"] = index["weight_map"]["w"]
    index_file.write_text(json.dumps(index))
    with pytest.raises(shards.ShardedFileError, match="lists 1 tensors no shard holds \\('ghost'"):
        shards.load_sharded(path)


def _shard_tensors(seed: int) -> dict:
    import torch

    g = torch.Generator().manual_seed(seed)
    return {f"layer{i}.weight": torch.randn(64, 64, generator=g) for i in range(6)}  # 3 shards of 40 kB


def test_a_shard_published_before_its_own_write_failed_is_removed_too(monkeypatch, tmp_path: Path):
    """The second shard renamed into place, then its write fails (the folder's fsync): that shard
    is this save's too, and goes with the first; no new shard is left."""
    from taco import shards

    real = shards.write_bytes_atomic
    calls: list = []

    def write(path, data, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            real(path, data, **kwargs)
            raise OSError(errno.EIO, "Input/output error")
        return real(path, data, **kwargs)

    monkeypatch.setattr(shards, "write_bytes_atomic", write)
    with pytest.raises(OSError):
        shards.save_sharded(_shard_tensors(0), tmp_path / "train_state.safetensors", {"step": "1"},
                            max_bytes=40_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_an_empty_index_left_there_does_not_keep_a_failed_save_s_shards(monkeypatch, tmp_path: Path):
    """An empty index file in place (a leftover) when a save fails at its second shard: the first
    shard is still removed (an index not yet written is never 'published')."""
    from taco import shards

    path = tmp_path / "train_state.safetensors"
    index = Path(str(path) + ".index.json")
    index.write_bytes(b"")
    real = shards.write_bytes_atomic
    calls: list = []

    def write(p, data, **kwargs):
        calls.append(p)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(p))
        return real(p, data, **kwargs)

    monkeypatch.setattr(shards, "write_bytes_atomic", write)
    with pytest.raises(OSError):
        shards.save_sharded(_shard_tensors(0), path, {"step": "1"}, max_bytes=40_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == [index.name]
