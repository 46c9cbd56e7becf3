"""The public API's edges found by an audit: unreadable ``.taco`` paths, where warnings point,
short reprs, NumPy qualities, and argument errors that name the argument."""

from __future__ import annotations

import errno
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import taco
from taco.cli import main

# ---------------------------------------------------------------- a .taco path that cannot be read


@pytest.mark.parametrize("read", [taco.info, taco.decompress], ids=["info", "decompress"])
def test_a_missing_taco_path_is_a_taco_error_naming_it(read, tmp_path):
    missing = tmp_path / "gone.taco"
    with pytest.raises(taco.TacoFormatError, match="cannot read .taco file .*gone.taco.*file not found"):
        read(missing)
    with pytest.raises(taco.TacoError, match="is a directory"):
        read(str(tmp_path))


@pytest.mark.parametrize("read", [taco.info, taco.decompress], ids=["info", "decompress"])
def test_a_missing_taco_path_is_also_the_oserror_python_raises(read, tmp_path):
    missing = tmp_path / "gone.taco"
    for caught in (FileNotFoundError, OSError, taco.TacoFormatError, ValueError):
        with pytest.raises(caught) as error:
            read(missing)
    assert error.value.errno == 2 and error.value.filename == str(missing)
    assert str(error.value) == f"cannot read .taco file '{missing}': file not found"
    with pytest.raises(OSError, match="is a directory"):
        read(tmp_path)


#: ``python -c READ_LOCKED PATH``: what taco.info(PATH) raises, for a process of its own.
READ_LOCKED = """
import sys
import taco
try:
    taco.info(sys.argv[1])
except taco.TacoFormatError as error:
    print(isinstance(error, OSError), error.errno is not None, error)
"""


@pytest.mark.parametrize("denied", ["chmod", "simulated"])
def test_an_unreadable_taco_path_is_a_taco_error(tmp_path, monkeypatch, request, denied):
    """A file not permitted: really (chmod 0; as root, in a process without the capabilities
    that read any file) or, for root without capsh too, by an open that fails as a non-root
    user's does."""
    path = tmp_path / "locked.taco"
    path.write_bytes(b"TACO")
    if denied == "chmod":
        path.chmod(0)
        if not hasattr(os, "geteuid"):
            pytest.skip("POSIX modes")
        if os.geteuid() == 0:  # root reads any file: the bypass dropped (skips without capsh)
            done = request.getfixturevalue("without_bypass")(["-c", READ_LOCKED, str(path)])
            assert done.returncode == 0, done.stderr
            assert re.fullmatch(r"True True .*locked\.taco.*ermission denied\n", done.stdout), done.stdout
            return
    else:
        opened = Path.open

        def refused(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            if self == path:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
            return opened(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", refused)
    with pytest.raises(taco.TacoFormatError, match="locked.taco.*ermission denied"):
        taco.info(path)
    with pytest.raises(OSError, match="locked.taco.*ermission denied") as error:
        taco.info(path)
    assert error.value.errno is not None


def test_a_missing_image_and_a_missing_taco_file_are_said_alike(tmp_path, tiny_elic):
    with pytest.raises(taco.ImageReadError, match="gone.png.*file not found"):
        taco.compress(tmp_path / "gone.png", "", tiny_elic)
    with pytest.raises(taco.TacoFormatError, match="gone.taco.*file not found"):
        taco.decompress(tmp_path / "gone.taco", tiny_elic)


@pytest.mark.parametrize("command", ["info", "decompress"])
def test_the_cli_says_a_missing_taco_file_in_one_line(command, tmp_path, capsys):
    assert main([command, str(tmp_path / "gone.taco")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "gone.taco" in err


def test_a_taco_error_that_is_also_an_oserror_is_said_in_tacos_words(tmp_path):
    from taco.cli.common import error_line

    with pytest.raises(OSError) as error:
        taco.info(tmp_path / "gone.taco")
    assert error_line(error.value) == f"cannot read .taco file '{tmp_path / 'gone.taco'}': file not found"
    assert error_line(FileNotFoundError(2, "No such file or directory", "x.png")) == "x.png: no such file or directory"


# ---------------------------------------------------------------- warnings point at the caller


def _rgba(tmp_path):
    from PIL import Image

    path = tmp_path / "with-alpha.png"
    Image.new("RGBA", (64, 64), (200, 30, 40, 128)).save(path)
    return path


def test_a_conversion_warning_points_at_the_callers_line_and_names_the_path(tmp_path, tiny_elic):
    path = _rgba(tmp_path)
    with pytest.warns(taco.ImageConversionWarning) as record:
        line = sys._getframe().f_lineno + 1
        taco.compress(path, "", tiny_elic)
    (w,) = [w for w in record if issubclass(w.category, taco.ImageConversionWarning)]
    assert (w.filename, w.lineno) == (__file__, line)
    assert str(path) in str(w.message) and "alpha" in str(w.message)


def test_a_conversion_warning_of_a_pil_image_and_of_a_batch_points_at_the_caller(tmp_path, tiny_elic):
    from PIL import Image

    image = Image.new("LA", (64, 64))
    with pytest.warns(taco.ImageConversionWarning) as record:
        taco.compress(image, "", tiny_elic)
        taco.compress_batch([_rgba(tmp_path)], [""], tiny_elic)
    assert [w.filename for w in record if issubclass(w.category, taco.ImageConversionWarning)] == [
        __file__, __file__]


def test_a_caption_warning_still_points_at_the_caller():
    from taco.errors import warn_at_caller

    with pytest.warns(taco.TacoWarning) as record:
        line = sys._getframe().f_lineno + 1
        warn_at_caller("note", taco.TacoWarning)
    assert (record[0].filename, record[0].lineno) == (__file__, line)


# ---------------------------------------------------------------- short reprs


def test_the_results_of_compress_image_and_info_have_short_reprs(sample_image, tiny_elic):
    result = taco.compress_image(sample_image, "", tiny_elic)
    text = repr(result)
    assert f"data=<{len(result.data)} bytes>" in text and "\\x" not in text and len(text) < 200
    assert f"height={result.height}" in text and f"width={result.width}" in text
    parsed = taco.info(result.data)
    text = repr(parsed)
    assert f"payload=<{parsed.payload_bytes} bytes>" in text and len(text) < 400
    assert repr(parsed.header) in text and f"crc32=0x{parsed.crc32:08x}" in text


# ---------------------------------------------------------------- NumPy integers as qualities


@pytest.fixture(scope="module")
def variable_rate():
    return taco.create_model("elic-vr", seed=0)


@pytest.mark.parametrize("quality", [np.int64(3), np.uint8(3), np.int32(3)], ids=str)
def test_a_numpy_integer_quality_is_a_quality(quality, variable_rate, sample_image):
    small = sample_image.crop((0, 0, 64, 64))
    result = taco.compress_image(small, "", variable_rate, quality=quality)
    assert type(result.quality) is int and result.quality == 3
    assert result.data == taco.compress(small, "", variable_rate, quality=3)
    (batch,) = taco.compress_batch([small], [""], variable_rate, quality=quality)
    assert batch.data == result.data
    x = torch.rand(1, 3, 64, 64)
    assert variable_rate.compress(x, quality)["strings"] == variable_rate.compress(x, 3)["strings"]


@pytest.mark.parametrize("quality", [np.bool_(True), True, 3.0, np.float64(3), "3"], ids=repr)
def test_bools_floats_and_strings_are_type_errors(quality, variable_rate, sample_image):
    small = sample_image.crop((0, 0, 64, 64))
    with pytest.raises(TypeError, match="quality must be an integer 1..7 for model .*, not "):
        taco.compress(small, "", variable_rate, quality=quality)
    if not isinstance(quality, str):  # a model without text reads a string there as a caption
        with pytest.raises(TypeError, match="quality must be an integer 1..7, not "):
            variable_rate.compress(torch.rand(1, 3, 64, 64), quality)


def test_an_out_of_range_numpy_integer_is_a_value_error(variable_rate, sample_image):
    small = sample_image.crop((0, 0, 64, 64))
    with pytest.raises(taco.TacoValueError, match="quality must be an integer 1..7 .*, got 9"):
        taco.compress(small, "", variable_rate, quality=np.int64(9))
    with pytest.raises(taco.TacoValueError, match="quality must be an integer 1..7, got 9"):
        variable_rate.compress(torch.rand(1, 3, 64, 64), np.int64(9))


# ---------------------------------------------------------------- arguments of the wrong kind


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda img, m: taco.compress(img, "a", m, progress=True), TypeError, "progress must be a function"),
    (lambda img, m: taco.compress_image(img, "a", m, progress="x"), TypeError, "progress must be a function"),
    (lambda img, m: taco.compress(img, "a", m, stripe_budget=None), TypeError, "stripe_budget must be an integer"),
    (lambda img, m: taco.compress(img, "a", m, stripe_budget=1.5), TypeError, "stripe_budget must be an integer"),
    (lambda img, m: taco.compress(img, "a", m, stripe_budget=0), ValueError, "stripe_budget must be positive"),
    (lambda img, m: taco.compress(img, "a", m, text_encoder="minilm"), TypeError,
     r"text_encoder must be a loaded text encoder or None, not str \(load one with taco.text.get_text_encoder"),
    (lambda img, m: taco.compress_batch([img], ["a"], m, text_encoder="minilm"), TypeError,
     "text_encoder must be a loaded text encoder"),
    (lambda img, m: taco.compress_batch([img], ["a"], m, progress=True), TypeError, "progress must be a function"),
    (lambda img, m: taco.compress_batch([img], ["a"], m, batch_size="8"), TypeError, "batch_size must be an integer"),
], ids=["compress-progress", "compress_image-progress", "stripe_budget-None", "stripe_budget-float",
        "stripe_budget-0", "text_encoder-str", "batch-text_encoder", "batch-progress", "batch-batch_size"])
def test_a_wrong_encoder_argument_is_named(call, error, words, sample_image, tiny_taco):
    with pytest.raises(error, match=words):
        call(sample_image.crop((0, 0, 64, 64)), tiny_taco)


@pytest.mark.parametrize(("max_pixels", "error"), [
    ("64000000", TypeError), (1.5, TypeError), (True, TypeError), (0, ValueError), (-1, ValueError),
], ids=repr)
def test_a_wrong_max_pixels_is_named(max_pixels, error, sample_image, tiny_elic):
    data = taco.compress(sample_image.crop((0, 0, 64, 64)), "", tiny_elic)
    with pytest.raises(error, match="max_pixels must be"):
        taco.decompress(data, tiny_elic, max_pixels=max_pixels)
    with pytest.raises(error, match="max_pixels must be"):
        taco.codec.decompress_tensor(data, tiny_elic, max_pixels=max_pixels)


@pytest.mark.parametrize("restore", ["no", "False", "", None, 2, 1.0])
def test_restore_must_be_a_bool(restore, sample_image, tiny_elic):
    """``restore="no"`` restored the mode (a non-empty string is true)."""
    data = taco.compress(sample_image.crop((0, 0, 64, 64)).convert("L"), "", tiny_elic)
    with pytest.raises(TypeError, match="restore must be True or False"):
        taco.decompress(data, tiny_elic, restore=restore)


@pytest.mark.parametrize("off, on", [(False, True), (0, 1), (np.bool_(False), np.bool_(True))])
def test_restore_takes_bools_numpy_bools_and_0_1(off, on, sample_image, tiny_elic):
    data = taco.compress(sample_image.crop((0, 0, 64, 64)).convert("L"), "", tiny_elic)
    assert taco.decompress(data, tiny_elic, restore=off).mode == "RGB"
    assert taco.decompress(data, tiny_elic, restore=on).mode == "L"


def test_progress_and_numpy_options_still_work(sample_image, tiny_elic):
    small = sample_image.crop((0, 0, 64, 64))
    stages: list[str] = []
    data = taco.compress(small, "", tiny_elic, progress=lambda stage, done, total: stages.append(stage),
                         stripe_budget=np.int64(10**9))
    assert stages == ["converting", "analysis", "entropy coding"]
    assert taco.decompress(data, tiny_elic, max_pixels=np.int64(4096), progress=None).size == (64, 64)
    with pytest.raises(taco.TacoFormatError, match="over the decoder's cap of 4,095"):
        taco.decompress(data, tiny_elic, max_pixels=4095)
