"""A model path that is there but is no file to read (a broken symbolic link, a FIFO, a link to
a device) is said as such, in the same words by every entry point: it was "X: no such
checkpoint file (did you mean 'X'?)", suggesting the typed name itself; a run folder whose
checkpoint.safetensors is a broken link said to give that very file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

import taco
from taco.cli import main
from taco.models import CheckpointError
from taco.models.registry import no_such_file_message

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "builtin" / "elic-small-q3.taco"
pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs symbolic links and FIFOs")


@pytest.fixture()
def odd(tmp_path, monkeypatch):
    """A folder with a broken link, a FIFO, a link to a device and a run whose checkpoint is a
    broken link; the working directory, so that paths are shown as typed."""
    monkeypatch.chdir(tmp_path)
    os.symlink("/nonexistent/model.safetensors", "dang.safetensors")
    os.mkfifo("fifo.safetensors")
    os.symlink(os.devnull, "null.safetensors")
    os.mkdir("run")
    os.symlink("/gone/checkpoint.safetensors", "run/checkpoint.safetensors")
    Image.new("RGB", (32, 32)).save("x.png")
    return tmp_path


BROKEN = "dang.safetensors is a broken symbolic link to '/nonexistent/model.safetensors', not a checkpoint file"
FIFO = "fifo.safetensors is not a regular file (a pipe, a device or a socket), not a checkpoint file"
DEVICE = (f"null.safetensors is not a regular file (a symbolic link to '{os.devnull}': a pipe, a device "
          f"or a socket), not a checkpoint file")
RUN = "run/checkpoint.safetensors is a broken symbolic link to '/gone/checkpoint.safetensors', not a checkpoint file"
CASES = [("dang.safetensors", BROKEN), ("fifo.safetensors", FIFO), ("null.safetensors", DEVICE), ("run", RUN)]


@pytest.mark.parametrize(("model", "words"), CASES)
def test_load_says_what_the_path_is(odd, model, words):
    with pytest.raises(CheckpointError) as e:
        taco.load(model)
    assert str(e.value) == words


@pytest.mark.parametrize(("model", "words"), CASES)
@pytest.mark.parametrize("command", ["compress", "decompress", "train"])
def test_every_command_says_the_same(odd, capsys, command, model, words):
    argv = {"compress": ["compress", "x.png", "-m", model, "-o", "x.taco", "--caption", "x"],
            "decompress": ["decompress", str(GOLDEN), "-m", model, "-o", "y.png"],
            "train": ["train", "--init-from", model, "--print-config"]}[command]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    context = "init_from: " if command == "train" else ""
    assert err == f"taco {command}: error: {context}{words}"


def test_suggestions_are_files_not_the_typed_name(odd):
    """A missing name close to a broken link or a FIFO is not offered those; a close regular file is."""
    Path("fifa.safetensors").write_bytes(b"")
    assert no_such_file_message("fifo2.safetensors") == (
        "fifo2.safetensors: no such checkpoint file (did you mean 'fifa.safetensors'?)")
    assert "did you mean" not in no_such_file_message("dong.safetensors")
