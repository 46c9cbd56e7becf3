"""A .taco file or an image given as a model (`taco compress -m ok.taco`, `train --init-from
ok.taco`, `taco.load('photo.png')`) was "not a safetensors file (Error while deserializing header:
header too large)"; import-checkpoint already named it. Now every reader says it in the one
builder's words (taco.filekinds.image_file_problem, moved down from taco.text.weights so that the
base layer's taco.shards can use it)."""

from __future__ import annotations

import pytest

import taco
from taco import filekinds, shards
from taco.cli import main
from taco.models.config import CheckpointError
from taco.text import weights

TACO_WORDS = "a .taco file (a compressed image), not a checkpoint: taco decompress reads it"
PNG_WORDS = "a PNG image, not a checkpoint"
FILES = {"ok.taco": (b"TACO\x03" + bytes(200), TACO_WORDS),
         "photo.png": (b"\x89PNG\r\n\x1a\n" + bytes(200), PNG_WORDS),
         "photo.jpg": (b"\xff\xd8\xff\xe0" + bytes(200), "a JPEG image, not a checkpoint")}


def _file(tmp_path, name):  # noqa: ANN001, ANN202
    path = tmp_path / name
    path.write_bytes(FILES[name][0])
    return path


def test_one_builder_for_both_readers() -> None:
    assert weights.image_file_problem is filekinds.image_file_problem


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_shards_readers_name_the_file_kind(name, tmp_path) -> None:
    path = _file(tmp_path, name)
    assert filekinds.image_file_problem(path) == FILES[name][1]
    for read in (shards.read_metadata, shards.load_sharded, shards.tensor_shapes):
        with pytest.raises(shards.ShardedFileError) as err:
            read(path)
        assert str(err.value) == f"{path}: {FILES[name][1]}"


def test_a_safetensors_file_that_is_not_one_is_still_said_so(tmp_path) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"\x07" * 300)
    assert filekinds.image_file_problem(path) is None
    with pytest.raises(shards.ShardedFileError, match="not a safetensors file"):
        shards.read_metadata(path)


@pytest.mark.parametrize("name", ["ok.taco", "photo.png"])
def test_taco_load_names_the_file_kind(name, tmp_path) -> None:
    path = _file(tmp_path, name)
    with pytest.raises(CheckpointError) as err:
        taco.load(path)
    assert str(err.value) == f"{path}: {FILES[name][1]}"


@pytest.mark.parametrize("name", ["ok.taco", "photo.png"])
def test_compress_model_and_train_init_from_name_the_file_kind(name, tmp_path, capsys) -> None:
    path = _file(tmp_path, name)
    image = tmp_path / "in.png"
    from PIL import Image

    Image.new("RGB", (16, 16)).save(image)
    for argv in (["compress", str(image), "-m", str(path), "-o", str(tmp_path / "x.taco"),
                  "--caption", "x"],
                 ["train", "--init-from", str(path), "--set", "data.root=nowhere",
                  "--out-dir", str(tmp_path / "run")]):
        status = main(argv)
        err = capsys.readouterr().err
        assert status == 2, err
        line = err.strip()  # (train may put the setting's name, init_from:, before the path)
        assert "\n" not in line and line.startswith(f"taco {argv[0]}: error: "), err
        assert line.endswith(f" {path}: {FILES[name][1]}"), err
        assert "header too large" not in err


def test_load_torch_file_says_the_same(tmp_path) -> None:
    path = _file(tmp_path, "ok.taco")
    with pytest.raises(ValueError, match="taco decompress reads it"):
        weights.load_torch_file(path)
