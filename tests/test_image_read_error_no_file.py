"""ImageReadError.path is the image's file, or None for an image that has no file (bytes, a file
object without a name, a PIL image made in memory): it was a made-up ``Path('image bytes')`` /
``Path('image file object')``. The message still names what was read, and the error pickles."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import pytest
from PIL import Image

import taco
from taco.images import ImageReadError


@pytest.fixture(scope="module")
def model():
    return taco.create_model("elic-tiny", seed=0)


def _closed_image() -> Image.Image:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG")
    image = Image.open(io.BytesIO(buffer.getvalue()))
    image.close()
    return image


@pytest.mark.parametrize(("image", "named"), [
    (b"not an image", "image bytes"),
    (io.BytesIO(b"not an image"), "image file object"),
    (_closed_image(), "PIL image"),
], ids=["bytes", "file object", "PIL image"])
def test_an_image_without_a_file_has_no_path(model, image, named):
    with pytest.raises(ImageReadError, match=f"^cannot read image '{named}': ") as info:
        taco.compress(image, None, model)
    assert info.value.path is None
    again = pickle.loads(pickle.dumps(info.value))
    assert again.path is None and str(again) == str(info.value)


def test_a_file_keeps_its_path(model, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(ImageReadError) as info:
        taco.compress(bad, None, model)
    assert info.value.path == bad
    with open(bad, "rb") as f, pytest.raises(ImageReadError) as info:
        taco.compress(f, None, model)
    assert info.value.path == bad  # a file object opened from a path names its file


def test_the_empty_path_is_still_a_path():
    error = ImageReadError("", "an empty path")
    assert error.path == Path("") and str(error) == "cannot read image '': an empty path"


def test_a_file_named_like_what_has_no_file_keeps_its_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("image bytes", "PIL image"):
        Path(name).write_bytes(b"not an image")
        with pytest.raises(ImageReadError) as caught:
            taco.images.load_image(name)
        assert caught.value.path == Path(name)


def test_a_stream_opened_without_a_path_has_none(model):
    class Stdin(io.BytesIO):
        name = "<stdin>"  # as sys.stdin.buffer names itself

    stream = Stdin(b"not an image")
    with pytest.raises(ImageReadError, match="^cannot read image '<stdin>': ") as info:
        taco.compress(stream, None, model)
    assert info.value.path is None


@pytest.mark.parametrize("name", ["<scan>.png", "<scan>"])
def test_a_file_whose_name_starts_with_a_bracket_keeps_its_path(model, tmp_path, monkeypatch, name):
    """Any stream whose name started with '<' was taken for one without a file (<stdin>)."""
    monkeypatch.chdir(tmp_path)
    Path(name).write_bytes(b"not an image")
    with open(name, "rb") as f, pytest.raises(ImageReadError) as info:
        taco.compress(f, None, model)
    assert info.value.path == Path(name)
