"""Mutation round 13: tests that kill mutants of session 39's code that survived the suite."""

from __future__ import annotations

import errno
import io
import os
import shutil
import sys
import types
from pathlib import Path

import pytest
import torch

import taco
from taco import shards
from taco.models import checkpoint, create_model, save_checkpoint


def _save(path: Path, who: str, seed: int, max_shard_bytes: int | None = None) -> Path:
    model = create_model("elic-tiny", seed=seed)
    return save_checkpoint(model, path, model_id=f"ckpt-{who}", metadata={"who": who},
                           max_shard_bytes=max_shard_bytes)


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    """A and B: the same architecture, other weights, files of the same size."""
    folder = tmp_path_factory.mktemp("r13")
    files = {"A": _save(folder / "a.safetensors", "A", 1), "B": _save(folder / "b.safetensors", "B", 2)}
    assert files["A"].stat().st_size == files["B"].stat().st_size
    return {who: (file, taco.load(file)) for who, file in files.items()}


def test_a_file_rewritten_in_place_with_one_of_the_same_size_gives_its_header(tmp_path, monkeypatch, two):
    """(S2) Rewritten in place between the header's parse and the read of the rest by a file of
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
    """(S5) A shard gone while the index stays as it was: a ShardedFileError, not a
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
    """(C2) A save replacing a sharded checkpoint by a plain file while it loads: the load starts
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


def test_read_checkpoint_of_no_file_says_so(tmp_path):
    """(H2) read_checkpoint of a path with no checkpoint: its own one-line refusal."""
    from taco.models.header import read_checkpoint

    missing = tmp_path / "none.safetensors"
    with pytest.raises(taco.models.CheckpointError) as caught:
        read_checkpoint(missing)
    assert str(caught.value) == f"{missing}: no such checkpoint file"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_kernel_on_a_terminal_with_ipywidgets_draws_a_plain_bar(monkeypatch):
    """(P2) ipykernel imported but stderr a terminal (a console on a kernel): tqdm's own bar, not
    tqdm.auto's, even where ipywidgets imports."""
    from tqdm import tqdm

    from taco.progress import progress_bar

    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setitem(sys.modules, "ipywidgets", types.ModuleType("ipywidgets"))
    monkeypatch.setattr(sys, "stderr", _Terminal())
    bar = progress_bar(range(2), desc="d", unit="img")
    assert type(bar) is tqdm
    assert list(bar) == [0, 1] and "2/2" in sys.stderr.getvalue()


def test_a_notebook_whose_ipywidgets_is_broken_gets_a_text_bar(monkeypatch, tmp_path):
    """(P4) an ipywidgets that fails to import with another error than ImportError (a version
    clash): a plain text bar, no failure."""
    from tqdm import tqdm

    from taco.progress import progress_bar

    package = tmp_path / "ipywidgets"
    package.mkdir()
    (package / "__init__.py").write_text("raise AttributeError('broken ipywidgets')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "ipywidgets", raising=False)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    bar = progress_bar(range(3), desc="work", unit="img")
    assert type(bar) is tqdm and not bar.disable
    assert list(bar) == [0, 1, 2] and "3/3" in sys.stderr.getvalue()


def test_a_folder_read_by_name_only_takes_no_folder_for_a_sidecar(tmp_path, monkeypatch):
    """(CF3) In a folder that cannot be listed, a sidecar is a file of that name: a folder named
    a.txt is no caption (as in a listed folder), not an unreadable one."""
    from taco.captions_file import CaptionLookup

    d = tmp_path / "d"
    d.mkdir()
    (d / "a.png").write_bytes(b"")
    (d / "a.txt").mkdir()
    real = os.scandir

    def scandir(path: object = ".") -> object:
        if Path(os.fspath(path)) == d:  # type: ignore[arg-type]
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))  # type: ignore[arg-type]
        return real(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", scandir)
    lookup = CaptionLookup()
    assert not lookup.has_sidecar(d, "a.png")
    assert lookup.find(d, "a.png") is None


def test_a_text_encoder_built_out_of_memory_is_out_of_memory(tmp_path):
    """(W4) load_network's build (from the folder's config.json) failing for want of memory is a
    taco.OutOfMemoryError naming the folder, not 'no usable config.json'."""
    from taco.text.weights import load_network

    def build():  # noqa: ANN202
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 90868376 bytes")

    with pytest.raises(taco.OutOfMemoryError) as caught:
        load_network(build, tmp_path, lambda name: name, "MiniLM")
    said = str(caught.value)
    assert said.startswith("out of memory loading the text encoder's weights in ")
    assert repr(os.fspath(tmp_path)) in said and "config.json" not in said


def test_quiet_transformers_blocks_after_nested_ones_still_quiet_and_do_not_hang():
    """(HF2, HF3) Two blocks nested one after the other in an outer one run (no wait for the
    thread's own lock), and a block after the outer one has ended quiets transformers again."""
    import threading

    from transformers.utils import logging

    from taco.text.hf import quiet_transformers

    seen: list[int] = []

    def work() -> None:
        with quiet_transformers():
            with quiet_transformers():
                pass
            with quiet_transformers():
                seen.append(logging.get_verbosity())
        with quiet_transformers():
            seen.append(logging.get_verbosity())
        with quiet_transformers():
            seen.append(logging.get_verbosity())

    before = logging.get_verbosity()
    logging.set_verbosity_info()
    try:
        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        thread.join(20)
        assert not thread.is_alive(), "a nested quiet_transformers block waited for its own thread"
        assert seen == [logging.ERROR] * 3
        assert logging.get_verbosity() == logging.INFO
    finally:
        logging.set_verbosity(before)
