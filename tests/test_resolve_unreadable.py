"""``taco compress -m RUN`` (a training run's folder) whose checkpoint
file the process may not read said ``RUN: cannot be read (Permission denied)``, as if the
folder were what could not be read: it names the checkpoint file now, with the reason, as
``taco models RUN`` and ``-m RUN/checkpoint.safetensors`` say it. Seen with real permissions:
root without the capabilities that bypass file modes (capsh), the file another user's, 0400."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from PIL import Image

from taco.models import CheckpointError, create_model, save_checkpoint
from taco.resolve import resolve_model


def _run_folder(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    save_checkpoint(create_model("elic-tiny", seed=0), run / "checkpoint.safetensors")
    Image.new("RGB", (32, 32), (90, 120, 30)).save(tmp_path / "p.png")
    return run


def test_compress_names_the_run_folders_unreadable_checkpoint(without_bypass, tmp_path: Path):
    run = _run_folder(tmp_path)
    ckpt = run / "checkpoint.safetensors"
    os.chown(ckpt, 65534, 65534)
    ckpt.chmod(0o400)
    done = without_bypass(["-m", "taco", "compress", "p.png", "-m", "run", "-o", "out/"], tmp_path)
    assert done.returncode == 2, done.stderr
    # was: taco compress: error: run: cannot be read (Permission denied)
    assert done.stderr.splitlines() == [
        "taco compress: error: run/checkpoint.safetensors: cannot be read (Permission denied)"]
    assert not (tmp_path / "out").exists()
    # the file itself, and taco models, said it so already: the same words
    done = without_bypass(["-m", "taco", "compress", "p.png", "-m", "run/checkpoint.safetensors", "-o", "out/"], tmp_path)
    assert done.stderr.splitlines() == [
        "taco compress: error: run/checkpoint.safetensors: cannot be read (Permission denied)"]
    # readable again: it compresses
    ckpt.chmod(0o444)
    done = without_bypass(["-m", "taco", "compress", "p.png", "-m", "run", "-o", "out/"], tmp_path)
    assert done.returncode == 0, done.stderr


def test_resolve_model_names_the_file(tmp_path: Path, monkeypatch):
    run = _run_folder(tmp_path)
    ckpt = run / "checkpoint.safetensors"
    assert resolve_model(run).checkpoint == ckpt
    opened = Path.open

    def denied(file, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if os.fspath(file) == os.fspath(ckpt):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(file))
        return opened(file, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(CheckpointError, match=r"run/checkpoint\.safetensors: cannot be read \(Permission denied\)$"):
        resolve_model(str(run))
