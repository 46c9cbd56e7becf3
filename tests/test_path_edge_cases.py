"""Paths the system cannot look at, given to the library: each is the TacoError of its kind, in
one line, at the place the path is first looked at (taco.fileobjects.checked_path).

A null byte made ``os.stat`` and ``open`` raise a bare ``ValueError: embedded null byte``; a name
too long for the file system made ``taco.load`` raise a bare ``OSError`` from ``Path.is_dir``;
an empty path was read as the current folder and reported as ``'.'``."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from PIL import Image

import taco
from taco.bitstream.container import TacoFileNotFound, TacoFileUnreadable, taco_bytes
from taco.cli import main
from taco.errors import TacoError
from taco.fileobjects import checked_path
from taco.images import ImageReadError, load_image
from taco.models import CheckpointError
from taco.models.registry import classify_model_spec

NULL = "a\x00b.png"
LONG = "x" * 300  # over NAME_MAX (255) on every file system taco runs on


@pytest.fixture(scope="module")
def model():
    return taco.create_model("elic-tiny", seed=0)


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "\x00" not in text, text
    return text


# ------------------------------------------------------------------------- the helper


def test_checked_path_gives_a_path_or_the_callers_error():
    assert checked_path("photos/a.png", ImageReadError) == Path("photos/a.png")
    assert checked_path(Path("a.png"), ImageReadError) == Path("a.png")
    with pytest.raises(ImageReadError, match=r"^cannot read image '': an empty path$"):
        checked_path("", ImageReadError)
    with pytest.raises(ImageReadError) as caught:
        checked_path(NULL, ImageReadError)
    assert _one_line(caught.value) == (r"cannot read image 'a\x00b.png': the path holds a null "
                                       "byte (character 2), which no file name can")


# ------------------------------------------------------------------------- images


@pytest.mark.parametrize(("path", "words"), [(NULL, "null byte (character 2)"),
                                            ("", "an empty path"),
                                            (LONG, "File name too long")])
def test_compress_refuses_the_path_as_an_image_read_error(model, path, words):
    with pytest.raises(ImageReadError) as caught:
        taco.compress(path, None, model)
    assert words in _one_line(caught.value) and "'.'" not in str(caught.value)
    assert isinstance(caught.value, TacoError) and isinstance(caught.value, ValueError)


def test_an_empty_image_path_pickles_as_itself():
    with pytest.raises(ImageReadError) as caught:
        load_image("")
    again = pickle.loads(pickle.dumps(caught.value))
    assert str(again) == str(caught.value) == "cannot read image '': an empty path"


def test_a_symlink_loop_is_an_image_read_error(tmp_path):
    loop = tmp_path / "loop.png"
    loop.symlink_to(loop)
    with pytest.raises(ImageReadError, match="symbolic links"):
        load_image(loop)


def test_bytes_piped_in_keep_their_name(tmp_path):
    """``data=`` bytes are named by ``path`` only: an empty name is not refused as a path."""
    Image.new("RGB", (4, 4)).save(tmp_path / "x.png")
    image = load_image("", data=(tmp_path / "x.png").read_bytes())
    assert image.size == (4, 4)


# ------------------------------------------------------------------------- .taco files


@pytest.mark.parametrize(("path", "words"), [(NULL, "null byte (character 2)"),
                                            ("", "an empty path"),
                                            (LONG, "File name too long")])
@pytest.mark.parametrize("read", [taco.decompress, taco.info, taco_bytes])
def test_a_taco_path_is_refused_as_unreadable(read, path, words):
    with pytest.raises(TacoFileUnreadable) as caught:
        read(path)
    assert words in _one_line(caught.value) and "'.'" not in str(caught.value)
    assert isinstance(caught.value, OSError) and not isinstance(caught.value, TacoFileNotFound)
    assert caught.value.filename == os.fspath(path).replace("\x00", "\\x00")


def test_a_missing_taco_file_is_still_not_found(tmp_path):
    with pytest.raises(TacoFileNotFound, match="file not found"):
        taco.info(tmp_path / "missing.taco")


# ------------------------------------------------------------------------- models


@pytest.mark.parametrize(("spec", "words"), [(NULL, "null byte (character 2)"),
                                            ("", "an empty path"),
                                            (LONG, "file name too long"),
                                            (Path(LONG), "file name too long"),
                                            ("~/" + LONG, "file name too long")])
def test_load_refuses_the_path_as_a_checkpoint_error(spec, words):
    with pytest.raises(CheckpointError) as caught:
        taco.load(spec)
    text = _one_line(caught.value)
    assert text.startswith("model '") and words in text and "folder" not in text, text


def test_an_empty_path_is_not_the_current_folders_checkpoint(tmp_path, monkeypatch):
    """``taco.load("")`` in a run's folder loaded that run's checkpoint (``Path("")`` is ``.``)."""
    (tmp_path / "checkpoint.safetensors").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    assert classify_model_spec(".").kind == "checkpoint"
    with pytest.raises(CheckpointError, match=r"^model '': an empty path$"):
        classify_model_spec("")


def test_names_are_looked_up_as_before():
    assert classify_model_spec("elic-tiny").kind == "architecture"
    assert classify_model_spec(LONG, names_only=True).kind == "unknown"  # the disk is not asked
    assert classify_model_spec("", names_only=True).kind == "unknown"


def test_the_cli_says_it_in_one_line(capsys):
    assert main(["models", LONG]) == 2
    err = capsys.readouterr().err
    assert err == f"taco models: error: model '{LONG}': file name too long\n"
