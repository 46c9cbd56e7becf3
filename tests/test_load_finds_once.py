"""One load of a run folder looks its checkpoint up once (Review R8-B): taco.load and what
``taco compress -m RUN`` uses (taco.resolve.resolve_model) call taco.shards.find once, and the
TacoWarning for a run holding both checkpoint.safetensors and a newer index is given once."""

import os
import shutil
import sys
import warnings

import pytest

import taco
from taco import shards
from taco.errors import TacoWarning
from taco.models import save_checkpoint
from taco.resolve import resolve_model


@pytest.fixture
def run_with_both(tmp_path, tiny_elic):
    """A run folder holding a plain checkpoint.safetensors and a newer sharded index of it."""
    run, other = tmp_path / "r", tmp_path / "other"
    run.mkdir()
    other.mkdir()
    save_checkpoint(tiny_elic, run / shards.CHECKPOINT_FILE)
    for f in shards.files(save_checkpoint(tiny_elic, other / shards.CHECKPOINT_FILE,
                                          max_shard_bytes=1_000_000)):
        shutil.copy(f, run / f.name)
    old, new = 1_000_000_000 * 10**9, 1_000_000_100 * 10**9
    os.utime(run / shards.CHECKPOINT_FILE, ns=(old, old))
    os.utime(shards.index_path(run / shards.CHECKPOINT_FILE), ns=(new, new))
    return run


@pytest.fixture
def find_calls(monkeypatch):
    """Calls of taco.shards.find, wherever a taco module took it by name."""
    calls = []
    original = shards.find

    def counted(path):
        calls.append(path)
        return original(path)

    for name, module in list(sys.modules.items()):
        if name.split(".")[0] == "taco" and getattr(module, "find", None) is original:
            monkeypatch.setattr(module, "find", counted)
    return calls


@pytest.mark.parametrize("load", [
    lambda run: taco.load(str(run)),
    lambda run: resolve_model(str(run)).model,
], ids=["taco.load", "resolve_model"])
def test_one_load_finds_the_checkpoint_once(run_with_both, find_calls, load):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = load(run_with_both)
    assert model is not None
    assert len(find_calls) == 1
    both = [w for w in caught if issubclass(w.category, TacoWarning) and "holds both" in str(w.message)]
    assert len(both) == 1
    assert "using the newer, checkpoint.safetensors.index.json" in str(both[0].message)
