"""A checkpoint file the system cannot read (permissions, an I/O error) is a CheckpointError
naming it, and a built-in name beside an unreadable ./NAME is still the built-in (it failed with
a bare 'input/output error' once taco.shards let OSError through)."""

from __future__ import annotations

import errno

import pytest
import torch

import taco
from taco import shards
from taco.models import CheckpointError
from taco.models.checkpoint import on_cpu_uninitialised
from taco.models.registry import classify_model_spec


@pytest.fixture()
def io_error(monkeypatch):
    def fail(path, index=None):  # noqa: ANN001, ANN202
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(shards, "check_header_size", fail)


def test_an_unreadable_checkpoint_is_named(tmp_path, monkeypatch, io_error):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"x" * 64)
    with pytest.raises(CheckpointError, match=r"model\.safetensors: cannot be read \(Input/output error\)"):
        taco.load(path)


def test_an_unreadable_namesake_leaves_the_builtin(tmp_path, monkeypatch, io_error):
    (tmp_path / "elic-tiny").mkdir()
    (tmp_path / "elic-tiny" / "checkpoint.safetensors").write_bytes(b"x" * 64)
    monkeypatch.chdir(tmp_path)
    spec = classify_model_spec("elic-tiny")
    assert spec.kind == "architecture" and spec.shadowed is None


def test_a_skeleton_gets_cpu_memory_whatever_the_default_device():
    module = torch.nn.Conv2d(3, 4, 3, device="meta")
    module.register_buffer("table", torch.zeros(5, device="meta"))
    with torch.device("meta"):  # as a script's torch.set_default_device("cuda") would
        on_cpu_uninitialised(module)
    assert {t.device.type for t in [*module.parameters(), *module.buffers()]} == {"cpu"}
