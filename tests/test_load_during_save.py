"""taco.load of a checkpoint that another process saves again meanwhile (session 38, R11 #2).

It read the taco header (config, model id, metadata), the tensors' shapes and the tensors in
separate opens of the file: a save (``os.replace``, as taco's own saves are atomic) between them
built the model from one file's header and filled it with the other's tensors. Under a loop of
swaps about half of the loads failed ("weights do not match the elic architecture in its header"),
and some succeeded with a mixed model: one checkpoint's model id and metadata, another's weights.
A plain file is now read once (its bytes: header, shapes and tensors from them); a sharded one's
index once, its shards checked against it, and the whole load starts again where a save replaced
it meanwhile. The swap is made inside the load, through public hooks, so no timing is involved.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

import taco
from taco import shards
from taco.models import CheckpointError, checkpoint, create_model, save_checkpoint


def _save(path: Path, who: str, seed: int, max_shard_bytes: int | None = None, **overrides) -> Path:
    model = create_model("elic-tiny", seed=seed, **overrides)
    return save_checkpoint(model, path, model_id=f"ckpt-{who}", metadata={"who": who},
                           max_shard_bytes=max_shard_bytes)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A and B (same architecture, other weights), W (another width); each file with its model."""
    folder = tmp_path_factory.mktemp("swap")
    files = {"A": _save(folder / "a.safetensors", "A", 1),
             "B": _save(folder / "b.safetensors", "B", 2),
             "W": _save(folder / "w.safetensors", "W", 3, N=24)}
    return {who: (file, taco.load(file)) for who, file in files.items()}


def _is(model, reference) -> bool:
    """Whether ``model`` is ``reference`` whole: model id, metadata and every tensor."""
    mine, theirs = model.state_dict(), reference.state_dict()
    return (model.model_id == reference.model_id and model.metadata == reference.metadata
            and set(mine) == set(theirs) and all(torch.equal(mine[k], theirs[k]) for k in mine))


def _replace(source: Path, target: Path) -> None:
    """Put a copy of ``source`` at ``target`` as a save does: written aside, then os.replace."""
    aside = target.with_name(target.name + ".new")
    shutil.copyfile(source, aside)
    os.replace(aside, target)


def _after_the_header(monkeypatch, action) -> list[int]:
    """Run ``action(call)`` in every load's first step after its header and shapes are read
    (the model's build on the meta device), before its tensors; returns the calls made."""
    build, calls = checkpoint.build_on_meta, []

    def build_on_meta(config):  # noqa: ANN001, ANN202
        calls.append(len(calls))
        action(calls[-1])
        return build(config)

    monkeypatch.setattr(checkpoint, "build_on_meta", build_on_meta)
    return calls


@pytest.mark.parametrize("other", ["B", "W"])
def test_a_file_replaced_during_a_load_gives_the_file_read(tmp_path, monkeypatch, saved, other):
    """B: the same architecture, so before it loaded 'successfully' with A's model id and
    metadata and B's weights; W: another width, before 'weights do not match'."""
    path = tmp_path / "model.safetensors"
    shutil.copyfile(saved["A"][0], path)
    calls = _after_the_header(monkeypatch, lambda call: _replace(saved[other][0], path))
    model = taco.load(path)
    assert calls == [0]
    assert _is(model, saved["A"][1])
    monkeypatch.undo()
    assert _is(taco.load(path), saved[other][1])  # the file is the other one now


def test_load_sharded_takes_the_metadata_from_the_tensors_bytes(tmp_path, monkeypatch, saved):
    """load_sharded (training states, caption tables) read the metadata in an open of its own."""
    import safetensors.torch

    path = tmp_path / "model.safetensors"
    shutil.copyfile(saved["A"][0], path)
    load = safetensors.torch.load

    def load_then_replace(data):  # noqa: ANN001, ANN202
        tensors = load(data)
        _replace(saved["B"][0], path)
        return tensors

    monkeypatch.setattr(safetensors.torch, "load", load_then_replace)
    tensors, metadata = shards.load_sharded(path)
    assert '"who": "A"' in metadata["taco"]
    a = saved["A"][1].state_dict()
    assert torch.equal(tensors["g_a.stage1.0.weight"], a["g_a.stage1.0.weight"])


def test_a_read_holds_the_whole_file(tmp_path, saved):
    path = tmp_path / "model.safetensors"
    shutil.copyfile(saved["A"][0], path)
    read = shards.read_once(path)
    path.unlink()
    tensors = read.tensors()
    assert set(tensors) == set(read.shapes())
    assert torch.equal(tensors["g_a.stage1.0.weight"], saved["A"][1].state_dict()["g_a.stage1.0.weight"])
    assert '"who": "A"' in read.metadata["taco"]


def test_a_file_written_in_place_while_read_gives_the_bytes_read(tmp_path, monkeypatch, saved):
    """Rewritten in place (not replaced: the same open file) between its header's parse and the
    read of the rest: the header is taken from the bytes read whole, so it fits the tensors."""
    path = tmp_path / "model.safetensors"
    shutil.copyfile(saved["A"][0], path)
    opens_by_name = shards.opens_by_name

    def rewrite(name):  # noqa: ANN001, ANN202 - called after the header is parsed
        with open(path, "r+b") as f:
            f.write(saved["W"][0].read_bytes())
            f.truncate()
        return opens_by_name(name)

    monkeypatch.setattr(shards, "opens_by_name", rewrite)
    read = shards.read_once(path)
    assert '"who": "W"' in read.metadata["taco"]
    w = saved["W"][1].state_dict()
    assert read.shapes()["g_a.stage1.0.weight"][0] == tuple(w["g_a.stage1.0.weight"].shape)
    assert torch.equal(read.tensors()["g_a.stage1.0.weight"], w["g_a.stage1.0.weight"])


def test_a_mapped_file_still_loads(tmp_path, monkeypatch, saved):
    """Over READ_WHOLE_MAX_BYTES a file is mapped (read in two passes, header then tensors)."""
    import safetensors.torch

    calls = []
    load_file = safetensors.torch.load_file
    monkeypatch.setattr(safetensors.torch, "load_file",
                        lambda *a, **k: calls.append(a) or load_file(*a, **k))
    monkeypatch.setattr(shards, "READ_WHOLE_MAX_BYTES", 1)
    assert _is(taco.load(saved["A"][0]), saved["A"][1]) and len(calls) == 1


@pytest.fixture(scope="module")
def sharded(tmp_path_factory, saved):
    """A and B saved sharded into folders of their own (each a shard index and its shards)."""
    folder = tmp_path_factory.mktemp("sharded")
    for who, seed in (("A", 1), ("B", 2)):
        _save(folder / who / "ck.safetensors", who, seed, max_shard_bytes=1_000_000)
        assert len(shards.files(folder / who / "ck.safetensors")) > 2
    return folder


def _save_sharded(folder: Path, who: str, path: Path) -> None:
    """Save ``who`` sharded at ``path`` as a save does (new shards, the index, old shards gone)."""
    tensors, metadata = shards.load_sharded(folder / who / "ck.safetensors")
    shards.save_sharded(tensors, path, metadata, max_bytes=1_000_000)


@pytest.mark.parametrize("when", ["reading the shapes", "after the shapes"])
def test_a_sharded_checkpoint_saved_during_a_load_gives_one_checkpoint(
        tmp_path, monkeypatch, saved, sharded, when):
    """Before: the header of the index read first (A's model id, metadata), the shapes and
    tensors of the index read later (B's weights). Now the load starts again: B whole."""
    path = tmp_path / "ck.safetensors"
    _save_sharded(sharded, "A", path)
    if when == "after the shapes":
        calls = _after_the_header(monkeypatch, lambda call: call or _save_sharded(sharded, "B", path))
    else:
        check, calls = shards.check_header_size, []

        def check_header_size(file, index=None):  # noqa: ANN001, ANN202
            if index is not None and not calls:
                calls.append(file)
                _save_sharded(sharded, "B", path)
            return check(file, index)

        monkeypatch.setattr(shards, "check_header_size", check_header_size)
    model = taco.load(path)
    assert _is(model, saved["B"][1])
    assert len(calls) == (2 if when == "after the shapes" else 1)


def test_a_sharded_checkpoint_saved_on_every_try_gives_up(tmp_path, monkeypatch, saved, sharded):
    path = tmp_path / "ck.safetensors"
    _save_sharded(sharded, "A", path)
    calls = _after_the_header(monkeypatch,
                              lambda call: _save_sharded(sharded, "BA"[call % 2], path))
    with pytest.raises(CheckpointError, match=r"ck\.safetensors\.index\.json: shard .* cannot be read"):
        taco.load(path)
    assert len(calls) == shards.READ_TRIES


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    """A and B: the same architecture, other weights, files of the same size."""
    folder = tmp_path_factory.mktemp("r13")
    files = {"A": _save(folder / "a.safetensors", "A", 1), "B": _save(folder / "b.safetensors", "B", 2)}
    assert files["A"].stat().st_size == files["B"].stat().st_size
    return {who: (file, taco.load(file)) for who, file in files.items()}


def test_a_file_rewritten_in_place_with_one_of_the_same_size_gives_its_header(tmp_path, monkeypatch, two):
    """Rewritten in place between the header's parse and the read of the rest by a file of
    the same size: the header is the bytes' own (B's), not the one parsed first (A's)."""
    path = tmp_path / "model.safetensors"
    shutil.copyfile(two["A"][0], path)
    opens_by_name = shards.opens_by_name

    def rewrite(name):  # noqa: ANN001, ANN202 - called after the header is parsed
        with open(path, "r+b") as f:
            f.write(two["B"][0].read_bytes())
        return opens_by_name(name)

    monkeypatch.setattr(shards, "opens_by_name", rewrite)
    read = shards.read_once(path)
    assert '"who": "B"' in read.metadata["taco"]
    b = two["B"][1].state_dict()
    assert torch.equal(read.tensors()["g_a.stage1.0.weight"], b["g_a.stage1.0.weight"])


def test_a_damaged_sharded_checkpoint_is_not_said_replaced_nor_read_again(tmp_path, monkeypatch):
    """A shard gone while the index stays as it was: a ShardedFileError, not a
    CheckpointReplaced, and taco.load refuses it on its first try."""
    path = _save(tmp_path / "ck.safetensors", "A", 1, max_shard_bytes=1_000_000)
    listed = shards.files(path)
    shard = next(f for f in listed if not f.name.endswith(".index.json"))
    shard.unlink()
    read = shards.read_once(path)
    with pytest.raises(shards.ShardedFileError) as caught:
        read.tensors()
    assert not isinstance(caught.value, shards.CheckpointReplaced)
    build, calls = checkpoint.build_on_meta, []
    monkeypatch.setattr(checkpoint, "build_on_meta", lambda config: calls.append(1) or build(config))
    with pytest.raises(taco.models.CheckpointError):
        taco.load(path)
    assert len(calls) <= 1


def test_a_sharded_checkpoint_saved_plain_during_a_load_gives_the_plain_one(tmp_path, monkeypatch, two):
    """A save replacing a sharded checkpoint by a plain file while it loads: the load starts
    again and looks for the checkpoint again (the index it found first is gone)."""
    path = tmp_path / "ck.safetensors"
    _save(path, "A", 1, max_shard_bytes=1_000_000)
    assert len(shards.files(path)) > 2
    build, calls = checkpoint.build_on_meta, []

    def build_on_meta(config):  # noqa: ANN001, ANN202
        calls.append(1)
        if len(calls) == 1:  # B saved plain, the old shards then removed (the index left)
            old = [f for f in shards.files(path) if not f.name.endswith(".index.json")]
            save_checkpoint(two["B"][1], path, model_id="ckpt-B", metadata={"who": "B"})
            for f in old:
                f.unlink()
        return build(config)

    monkeypatch.setattr(checkpoint, "build_on_meta", build_on_meta)
    model = taco.load(path)
    assert model.model_id == "ckpt-B" and model.metadata.get("who") == "B"
    assert len(calls) == 2
    assert os.path.isfile(path)
