"""taco train says what is wrong with data.root and init_from in the words the other commands
use: a data.root that is a file is said to be one (as taco evaluate and taco caption say), a
missing one is said before the text encoder is looked for, and every init_from refusal --
a typo, a .taco file, a truncated checkpoint -- begins ``init_from:`` with the registry's
words (as --model and taco.load give them)."""

from __future__ import annotations

import shutil

import pytest

import taco.train.trainer
from taco.cli import main as taco_main
from taco.data import CaptionedFolder, check_image_folder
from taco.samples import SAMPLES_DIR

SMALL = ["model=taco-minilm-tiny", "k_j=0", "crop=64", "batch_size=2", "workers=0", "max_steps=1"]


def _error(capsys, argv: list[str]) -> str:
    assert taco_main(["train", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("taco train: error: ") and err.count("\n") == 1, err
    return err.removeprefix("taco train: error: ").rstrip("\n")


@pytest.mark.parametrize(("name", "said"), [
    ("photo.png", "an image file, not a folder of images; put the image in a folder of its own"),
    ("photo.taco", "a .taco file, not a folder of images; `taco info` and `taco decompress` read .taco files"),
    ("notes.txt", "a file, not a folder of images"),
])
def test_a_data_root_that_is_a_file_is_said_to_be_one(tmp_path, capsys, name, said):
    path = tmp_path / name
    path.write_bytes(b"x")
    with pytest.raises(NotADirectoryError, match="^" + str(path) + ": " + said.replace(".", r"\.")):
        CaptionedFolder(path)
    err = _error(capsys, ["--set", f"data.root={path}", *SMALL, "-o", str(tmp_path / "run")])
    assert err == f"{path}: {said}"
    assert not (tmp_path / "run").exists()


def test_a_missing_folder_is_said_with_where_it_was_looked_for(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match=f"^nosuch: no such folder \\(in {tmp_path}\\)$"):
        check_image_folder("nosuch")
    check_image_folder(tmp_path)  # a folder: nothing said


@pytest.mark.parametrize("key", ["data.root", "val.root"])
def test_a_missing_data_folder_is_said_before_the_text_encoder_is_looked_for(tmp_path, capsys, monkeypatch, key):
    def looked_for(cfg):
        raise AssertionError("the text encoder was looked for before the data folder")

    monkeypatch.setattr(taco.train.trainer, "check_text_encoder", looked_for)
    photos = tmp_path / "photos"
    shutil.copytree(SAMPLES_DIR, photos)
    roots = {"data.root": str(photos), "val.root": str(photos), key: str(tmp_path / "nosuch")}
    err = _error(capsys, ["--set", *(f"{k}={v}" for k, v in roots.items()), *SMALL, "-o", str(tmp_path / "run")])
    # the validation set's folder is named as its other refusals name it
    assert err == ("val.root: " if key == "val.root" else "") + f"{tmp_path / 'nosuch'}: no such folder"


@pytest.mark.parametrize(("make", "said"), [
    (None, "init_from: model 'taco-minilm-smal-q4' is neither a checkpoint file nor a built-in trained "
           "model (did you mean 'taco-minilm-small-q4'"),
    (b"TACO" + bytes(40), "init_from: TRUNC: a .taco file (a compressed image), not a checkpoint"),
    (b"\x08\x00\x00\x00\x00\x00\x00\x00{\"a\"", "init_from: TRUNC: "),
])
def test_every_init_from_refusal_begins_init_from(tmp_path, capsys, make, said):
    source = "taco-minilm-smal-q4"
    if make is not None:
        source = str(tmp_path / ("trunc.taco" if make.startswith(b"TACO") else "trunc.safetensors"))
        (tmp_path / source).write_bytes(make)
    err = _error(capsys, ["--init-from", source, "--print-config", "--set",
                          f"data.root={SAMPLES_DIR}", "k_j=0"])
    assert err.startswith(said.replace("TRUNC", source)), err


@pytest.mark.parametrize("typo", ["elic-smal", "taco-minilm-smal"])
def test_an_init_from_typo_is_offered_trained_models_only(typo):
    # an architecture offered would be refused next ("an architecture without trained weights")
    from taco.models import PRETRAINED, CheckpointError
    from taco.models.registry import MODEL_CONFIGS
    from taco.train.config import locate_init_from

    with pytest.raises(CheckpointError) as caught:
        locate_init_from(typo)
    said = str(caught.value)
    offered = said.split("(did you mean ", 1)[1].split("?)", 1)[0]
    assert offered and all(name.strip("' ") in PRETRAINED for name in offered.split(" or "))
    assert not any(f"'{name}'" in said for name in set(MODEL_CONFIGS) - set(PRETRAINED))
    assert "TACO_PLUGINS" not in said
