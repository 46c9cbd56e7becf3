"""``taco.load(RUN)`` (a training run's folder) whose checkpoint file
the process may not read said ``RUN: cannot be read (Permission denied)``, as if the folder were
what could not be read (1fb6a53 fixed ``-m RUN``, in taco.resolve): it names the checkpoint file
now, as ``taco.load(RUN/checkpoint.safetensors)`` says it. Seen with real permissions: root
without the capabilities that bypass file modes (capsh), the file another user's, 0400."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import taco
import taco.data
from taco.models import CheckpointError, create_model, save_checkpoint

LOAD = """
import sys, taco
from taco.models import CheckpointError
try:
    taco.load(sys.argv[1])
except CheckpointError as e:
    print(e)
else:
    print("loaded")
"""


def _run_folder(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    save_checkpoint(create_model("elic-tiny", seed=0), run / "checkpoint.safetensors")
    return run


def _load_without_bypass(without_bypass, spec: str, cwd: Path) -> str:
    """What ``taco.load(spec)`` says, run as root without the capabilities that bypass file modes."""
    done = without_bypass(["-c", LOAD, spec], cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_load_names_the_run_folders_unreadable_checkpoint(without_bypass, tmp_path: Path):
    run = _run_folder(tmp_path)
    ckpt = run / "checkpoint.safetensors"
    os.chown(ckpt, 65534, 65534)
    ckpt.chmod(0o400)
    # was: run: cannot be read (Permission denied)
    assert _load_without_bypass(without_bypass, "run", tmp_path) == \
        "run/checkpoint.safetensors: cannot be read (Permission denied)"
    # the file itself said it so already: the same words
    assert _load_without_bypass(without_bypass, "run/checkpoint.safetensors", tmp_path) == \
        "run/checkpoint.safetensors: cannot be read (Permission denied)"
    ckpt.chmod(0o444)  # readable again: it loads
    assert _load_without_bypass(without_bypass, "run", tmp_path) == "loaded"


def test_load_names_the_file_that_cannot_be_opened(tmp_path: Path, monkeypatch):
    run = _run_folder(tmp_path)
    ckpt = run / "checkpoint.safetensors"
    opened = Path.open

    def denied(file: Path, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if os.fspath(file) == os.fspath(ckpt):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(file))
        return opened(file, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(CheckpointError) as caught:
        taco.load(run)
    assert str(caught.value) == f"{ckpt}: cannot be read (Permission denied)"
    with pytest.raises(CheckpointError) as caught:
        taco.load(ckpt)
    assert str(caught.value) == f"{ckpt}: cannot be read (Permission denied)"


def test_checkpoint_metadata_names_the_run_folders_unreadable_checkpoint(tmp_path: Path, monkeypatch):
    from taco.models import CheckpointError, create_model, save_checkpoint
    from taco.models.header import checkpoint_metadata

    run = tmp_path / "run"
    run.mkdir()
    ckpt = run / "checkpoint.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=0), ckpt)
    opened = Path.open

    def denied(file: Path, *args: object, **kwargs: object):  # noqa: ANN202
        if os.fspath(file) == os.fspath(ckpt):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(file))
        return opened(file, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(CheckpointError) as caught:
        checkpoint_metadata(run)
    assert str(caught.value) == f"{ckpt}: cannot be read (Permission denied)"
