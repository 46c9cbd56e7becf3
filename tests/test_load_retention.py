"""Every taco.load of a checkpoint left ~23 KB behind for the life of the process
(``safetensors.torch.load_file`` in safetensors 0.8 keeps what each call read: review LEAK #2);
files of the usual sizes are now read whole and parsed from memory, which keeps nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from taco import shards
from taco.models import create_model, save_checkpoint


def test_a_usual_checkpoint_is_not_mapped_by_load_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_checkpoint(create_model("elic-tiny", seed=1), tmp_path / "m.safetensors")
    import safetensors.torch

    def mapped(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("load_file used")

    monkeypatch.setattr(safetensors.torch, "load_file", mapped)
    tensors, metadata = shards.load_sharded(path)
    assert tensors and "taco" in metadata


def test_a_large_file_is_still_mapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_checkpoint(create_model("elic-tiny", seed=1), tmp_path / "m.safetensors")
    import safetensors.torch

    calls = []
    load_file = safetensors.torch.load_file
    monkeypatch.setattr(safetensors.torch, "load_file", lambda *a, **k: calls.append(a) or load_file(*a, **k))
    monkeypatch.setattr(shards, "READ_WHOLE_MAX_BYTES", 1)
    tensors, _ = shards.load_sharded(path)
    assert tensors and len(calls) == 1
