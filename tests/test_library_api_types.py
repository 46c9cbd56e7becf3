"""What a Python caller gets for an argument of the wrong type or kind: an error naming the
argument and what to pass, in a message of a readable length (a reviewer's list: base64 text read
as a path and repeated whole, type hints that could not be resolved, swapped arguments, captions and
qualities of any type taken by some models and not others, float pixels clipped unsaid)."""

from __future__ import annotations

import base64
import errno
import io
from pathlib import Path

import numpy as np
import pytest

import taco
from taco.bitstream.container import TacoFileNotFound, TacoFileUnreadable
from taco.fileobjects import STR_IS_A_PATH_HINT
from taco.images import ImageReadError
from taco.messages import SHOWN_PATH_LIMIT, shown_path
from taco.samples import SAMPLES_DIR as SAMPLES

PNG = (SAMPLES / "skimage-coffee.png").read_bytes()
B64 = base64.b64encode(PNG).decode()


# ------------------------------------------------------------------ 1. a str of data read as a path


def test_a_long_path_is_shown_cut_with_its_length():
    assert shown_path("x" * 10_000) == "x" * 10_000  # whole lines are shown so too: no cap
    shown = shown_path("x" * 10_000, SHOWN_PATH_LIMIT)
    assert len(shown) == SHOWN_PATH_LIMIT
    assert shown.startswith("xxx") and shown.endswith("… (10,000 characters)")
    assert shown_path(shown) == shown  # showing it again changes nothing
    assert shown_path("a/b.png", SHOWN_PATH_LIMIT) == "a/b.png"


def test_base64_text_given_as_an_image_says_to_pass_the_bytes(tiny_elic):
    with pytest.raises(ImageReadError) as caught:
        taco.compress(B64, None, tiny_elic)
    message = str(caught.value)
    assert len(message) < 500
    assert STR_IS_A_PATH_HINT in message and "characters" in message


def test_base64_text_given_as_a_taco_file_says_to_pass_the_bytes():
    with pytest.raises(TacoFileUnreadable) as caught:
        taco.decompress(B64)
    assert len(str(caught.value)) < 500 and STR_IS_A_PATH_HINT in str(caught.value)
    with pytest.raises(TacoFileUnreadable, match="null byte") as caught:
        taco.info(PNG.decode("latin-1"))  # binary data decoded as text
    assert len(str(caught.value)) < 500 and STR_IS_A_PATH_HINT in str(caught.value)


def test_a_short_path_with_a_null_byte_gets_no_hint():
    with pytest.raises(TacoFileUnreadable) as caught:
        taco.info("a\x00b.taco")
    assert STR_IS_A_PATH_HINT not in str(caught.value)


def test_a_long_model_name_is_cut_and_not_told_to_pass_bytes():
    with pytest.raises(taco.CheckpointError) as caught:
        taco.load("m" * 5000)
    assert len(str(caught.value)) < 500 and STR_IS_A_PATH_HINT not in str(caught.value)


# ------------------------------------------------------------------ 2. type hints


def test_the_public_api_type_hints_resolve_once_a_model_is_built(tiny_elic):
    import typing

    callables = [name for name in taco.__all__ if callable(getattr(taco, name))]
    assert "load" in callables and "create_model" in callables
    for name in callables:
        typing.get_type_hints(getattr(taco, name))  # NameError ('torch', 'ELIC') before
    assert typing.get_type_hints(taco.load)["return"] is taco.ELIC


# ------------------------------------------------------------------ 3. caption and model swapped


def test_a_model_given_as_the_caption_names_the_arguments_order(tiny_elic):
    with pytest.raises(TypeError, match=r"caption is a taco model: the arguments are "
                                        r"\(image, caption, model\)"):
        taco.compress(PNG, tiny_elic, "a cat")


@pytest.mark.parametrize(("model", "hint"), [
    ("a cat", None),
    ("elic-small-q4", "model = taco.load('elic-small-q4')"),
    ("elic-tiny", "model = taco.create_model('elic-tiny')"),
])
def test_a_str_for_the_model_gets_a_hint_only_when_it_names_one(model, hint):
    with pytest.raises(TypeError, match="model must be a loaded taco model, not str") as caught:
        taco.compress(PNG, None, model)
    assert ("taco.load" not in str(caught.value) and "create_model" not in str(caught.value)
            if hint is None else hint in str(caught.value))


def test_an_existing_path_for_the_model_gets_the_load_hint(tmp_path):
    path = taco.save_checkpoint(taco.create_model("elic-tiny"), tmp_path / "m.safetensors")
    with pytest.raises(TypeError, match=r"load it first: model = taco.load\("):
        taco.compress(PNG, None, str(path))


# ------------------------------------------------------------------ 4. a caption of another type


@pytest.mark.parametrize("caption", [5, [1, 2], b"a cat"])
@pytest.mark.parametrize("model_fixture", ["tiny_elic", "tiny_taco"])
def test_every_model_refuses_a_caption_that_is_no_str(caption, model_fixture, request):
    model = request.getfixturevalue(model_fixture)
    said = f"caption must be a str, got {type(caption).__name__}"
    with pytest.raises(TypeError, match=said):
        taco.compress(PNG, caption, model)
    with pytest.raises(TypeError, match=said):
        taco.compress_image(PNG, caption, model)
    with pytest.raises(TypeError, match=f"image 1 \\(counting from 0\\): {said}"):
        taco.compress_batch([PNG, PNG], ["", caption], model)


# ------------------------------------------------------------------ 5. wrong types, named


@pytest.mark.parametrize("value", [None, b"taco-tiny", 3])
def test_load_names_its_argument_for_a_wrong_type(value):
    with pytest.raises(TypeError, match=f"path_or_name must be .*, not {type(value).__name__}$"):
        taco.load(value)


def test_create_model_names_its_argument_for_a_wrong_type():
    with pytest.raises(TypeError, match="name must be a model's name \\(str\\), not NoneType$"):
        taco.create_model(None)


def test_save_checkpoint_names_its_arguments_for_wrong_types(tiny_elic, tmp_path):
    with pytest.raises(TypeError, match="model must be a taco model .*, not str$"):
        taco.save_checkpoint("x", tmp_path / "t.safetensors")
    with pytest.raises(TypeError, match="path must be a str or os.PathLike, not BytesIO$"):
        taco.save_checkpoint(tiny_elic, io.BytesIO())
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("quality", [2.0, "2", True])
def test_a_quality_of_another_type_is_a_type_error_for_every_model(quality, tiny_elic):
    vr = taco.create_model("elic-tiny", seed=0, qualities=(0.0018, 0.0035, 0.0067, 0.013))
    for model in (tiny_elic, vr):
        with pytest.raises(TypeError, match=f"quality must be an integer.*, not {type(quality).__name__}$"):
            taco.compress(PNG, None, model, quality=quality)


# ------------------------------------------------------------------ 6. float pixels clipped


@pytest.mark.parametrize(("shift", "scale", "warned"), [
    (0.0, 1.0, None),
    (0.0, 1 + 0.5 / 255, None),  # round-off: clipped unsaid
    (-0.053, 1.115, None),  # a bicubic resize's overshoot (-0.053 to 1.062): clipped unsaid
    (0.0, 1.3, "to 1.3"),
    (-0.3, 1.0, "from -0.3"),
])
def test_float_pixels_outside_0_1_are_clipped_with_a_warning(shift, scale, warned, tiny_elic):
    import warnings

    import numpy as np

    pixels = np.linspace(0, 1, 16 * 16 * 3, dtype=np.float32).reshape(16, 16, 3) * scale + shift
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        taco.compress(pixels, None, tiny_elic)
    said = [w for w in caught if issubclass(w.category, taco.ImageConversionWarning)]
    if warned is None:
        assert not said
    else:
        assert len(said) == 1 and warned in str(said[0].message) and "clipped to [0, 1]" in str(said[0].message)
        assert said[0].filename == __file__  # at the caller's line


def test_compress_batch_names_images_when_given_a_generator_or_one_path(tmp_path: Path) -> None:
    model = taco.create_model("elic-tiny")
    image = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(TypeError, match=r"images must be a sequence of images \(a list or tuple, or a "
                                        r"4-D batch tensor or array\), not generator"):
        taco.compress_batch((image for _ in range(2)), None, model)
    with pytest.raises(TypeError, match="images must be a sequence .*not str"):
        taco.compress_batch(str(tmp_path / "a.png"), None, model)
    with pytest.raises(TypeError, match="not one ndarray of 3 dimensions"):  # was 16 one-row images
        taco.compress_batch(image, None, model)
    assert len(taco.compress_batch(np.stack([image, image]), None, model)) == 2  # a 4-D batch
    photos = np.empty(2, dtype=object)  # what df["image"].to_numpy() gives: photos of any size
    photos[0], photos[1] = image, np.zeros((24, 16, 3), np.uint8)
    assert len(taco.compress_batch(photos, None, model)) == 2


# ------------------------------------------------------------------ 4. a short str of data read as a path


def _small_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def test_base64_of_a_small_image_given_as_a_path_says_to_pass_the_bytes(tiny_elic):
    text = base64.b64encode(_small_png()).decode()
    assert len(text) < 4096  # under the path limit: it was a bare "file not found", echoed whole
    with pytest.raises(ImageReadError, match="file not found") as caught:
        taco.compress(text, None, tiny_elic)
    message = str(caught.value)
    assert STR_IS_A_PATH_HINT in message and len(message) < 500
    wrapped = base64.encodebytes(_small_png()).decode()  # line breaks in it, as MIME writes them
    with pytest.raises(ImageReadError) as caught:
        taco.compress(wrapped, None, tiny_elic)
    assert STR_IS_A_PATH_HINT in str(caught.value)


def test_base64_of_a_small_taco_file_given_as_a_path_says_to_pass_the_bytes(tiny_elic):
    text = base64.b64encode(taco.compress(np.zeros((16, 16, 3), np.uint8), None, tiny_elic)).decode()
    with pytest.raises(TacoFileNotFound) as caught:  # a missing path, as any: FileNotFoundError
        taco.decompress(text)
    message = str(caught.value)
    assert STR_IS_A_PATH_HINT in message and len(message) < 500
    assert isinstance(caught.value, FileNotFoundError) and caught.value.errno == errno.ENOENT
    with pytest.raises(TacoFileNotFound) as caught:
        taco.info(text)
    assert STR_IS_A_PATH_HINT in str(caught.value)


def test_a_missing_file_name_gets_no_hint(tmp_path: Path, tiny_elic) -> None:
    with pytest.raises(ImageReadError, match="file not found") as caught:
        taco.compress(str(tmp_path / "photo.png"), None, tiny_elic)
    assert STR_IS_A_PATH_HINT not in str(caught.value)
    with pytest.raises(TacoFileNotFound) as caught:  # still a FileNotFoundError
        taco.decompress("abcd")  # base64 too, of bytes that start no file
    assert STR_IS_A_PATH_HINT not in str(caught.value)
