"""A mistyped checkpoint path (--model, taco.load) is said to name no file, with the close
names in its folder, not answered with the built-in models."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

import taco
from taco.cli import main
from taco.models import CheckpointError, create_model, save_checkpoint
from taco.samples import SAMPLES_DIR

CHELSEA = SAMPLES_DIR / "skimage-chelsea.png"


@pytest.fixture
def run(tmp_path: Path) -> Path:
    """A folder holding a checkpoint, a training state and a config, as a training run does."""
    folder = tmp_path / "run"
    folder.mkdir()
    save_checkpoint(create_model("elic-tiny"), folder / "checkpoint.safetensors")
    (folder / "train_state.safetensors").write_bytes(b"state")
    (folder / "config.yaml").write_text("preset: elic\n")
    return folder


def test_compress_names_the_file_it_did_not_find(run, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    image = tmp_path / "x.png"
    Image.open(CHELSEA).convert("RGB").crop((0, 0, 64, 64)).save(image)
    assert main(["compress", str(image), "--caption", "", "--model", "run/checkpoint.safetenors",
                 "-o", str(tmp_path / "x.taco")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("taco compress: error: run/checkpoint.safetenors: no such checkpoint file "
                   "(did you mean 'run/checkpoint.safetensors'?)")
    assert main(["compress", str(image), "--caption", "", "--model", "run/checkpoint.safetensors",
                 "-o", str(tmp_path / "x.taco")]) == 0  # what it suggests works


def test_load_names_the_file_it_did_not_find(run, tmp_path, monkeypatch):
    with pytest.raises(CheckpointError) as e:
        taco.load(run / "chekpoint.safetensors")
    assert str(e.value) == (f"{run}/chekpoint.safetensors: no such checkpoint file "
                            f"(did you mean '{run}/checkpoint.safetensors'?)")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointError) as e:  # a training state is no model: never suggested
        taco.load("run/train_stat.safetensors")
    assert "train_state" not in str(e.value)
    for typo in ("rnu/checkpoint.safetensors", "checkpont.pt"):
        with pytest.raises(CheckpointError) as e:  # no such folder; nothing close in it
            taco.load(typo)
        assert str(e.value) == f"{typo}: no such checkpoint file"
    with pytest.raises(CheckpointError, match=r"^model 'elic-tinny' is neither .*did you mean"):
        taco.load("elic-tinny")  # a name: the built-in models, as before


def test_read_checkpoint_of_no_file_says_so(tmp_path):
    """read_checkpoint of a path with no checkpoint: its own one-line refusal."""
    from taco.models.header import read_checkpoint

    missing = tmp_path / "none.safetensors"
    with pytest.raises(taco.models.CheckpointError) as caught:
        read_checkpoint(missing)
    assert str(caught.value) == f"{missing}: no such checkpoint file"
