"""``-`` as an input of a command that reads no standard input (``taco demo --image``, ``taco
plot``, ``taco import-checkpoint``) is refused in one wording, not called a missing file; a
folder given to import-checkpoint is a folder, not "no such checkpoint file"; a missing
``--captions`` file is worded by compress as by evaluate."""

from __future__ import annotations

import os

import pytest
from PIL import Image

from taco.cli import main
from taco.models import CheckpointError
from taco.official.checkpoint import read_official_state_dict


@pytest.mark.parametrize("argv", [
    ["demo", "--image", "-", "--caption", "x", "-o", "{tmp}/d"],
    ["plot", "-", "-o", "{tmp}/r"],
    ["import-checkpoint", "-", "-o", "{tmp}/i.safetensors"],
    ["evaluate", "-", "--classic", "jpeg", "-o", "{tmp}/e"],
    ["caption", "-"],
    ["train", "-", "--print-config"],
])
def test_dash_is_refused_as_standard_input_not_read(argv, tmp_path, capsys):
    command = argv[0]
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    assert capsys.readouterr().err.strip() == (
        f"taco {command}: error: -: taco {command} does not read standard input: name a file "
        "(./- for a file named -)")


def test_import_checkpoint_of_a_folder_says_it_is_a_folder(tmp_path, capsys):
    (tmp_path / "adir").mkdir()
    assert main(["import-checkpoint", str(tmp_path / "adir"), "-o", str(tmp_path / "x.safetensors")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"taco import-checkpoint: error: {tmp_path / 'adir'} is a folder, not a checkpoint file")
    with pytest.raises(CheckpointError, match="is a folder, not a checkpoint file$"):
        read_official_state_dict(tmp_path / "adir")


def test_import_checkpoint_of_a_pipe_says_what_it_is(tmp_path):
    os.mkfifo(tmp_path / "fifo.pth")
    with pytest.raises(CheckpointError, match=r"fifo.pth is not a regular file \(a pipe, a device or a "
                       r"socket\), not a checkpoint file$"):
        read_official_state_dict(tmp_path / "fifo.pth")


def test_a_missing_captions_file_is_worded_as_evaluate_words_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (16, 16)).save("a.png")
    assert main(["compress", "a.png", "--captions", "nosuch.jsonl", "-o", "a.taco"]) == 2
    assert capsys.readouterr().err.strip() == "taco compress: error: nosuch.jsonl: no such captions file"
