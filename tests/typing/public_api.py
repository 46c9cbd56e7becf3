"""What a type checker sees of taco's public names (taco ships ``py.typed``): checked by mypy in
CI (``.ci/run``), never run. The names load lazily at run time; without the packages'
``TYPE_CHECKING`` imports every one of them was ``Any`` to mypy and pyright, and so was a
misspelled name."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import IO

from PIL import Image
from typing_extensions import assert_type

import taco
import taco.evaluation
import taco.models
import taco.official
import taco.train
from taco.bitstream import TacoFile
from taco.codec import CompressResult


def user_code(photo: Path) -> None:
    model = taco.load("taco-minilm-small-q4")
    assert_type(model, taco.ELIC)
    data = taco.compress(photo, "A tabby cat.", model, quality=None)
    assert_type(data, bytes)
    assert_type(taco.compress_image(photo, "", model), CompressResult)
    assert_type(taco.compress(photo, "a cat", model, max_bytes=20_000), bytes)
    assert_type(taco.compress_batch([photo], ["a cat"], model, max_bytes=20_000), list[CompressResult])
    assert_type(taco.compress_batch([photo], ["a cat"], model), list[CompressResult])
    assert_type(taco.decompress(data, model), Image.Image)
    assert_type(taco.info(data), TacoFile)
    assert_type(taco.create_model("elic-tiny"), taco.ELIC)
    assert_type(taco.list_models(), list[str])
    assert_type(taco.DEFAULT_MODEL, str)
    assert_type(taco.load(taco.DEFAULT_MODEL), taco.ELIC)
    assert_type(taco.models.load("elic-tiny"), taco.ELIC)
    assert_type(taco.load("elic-small-q4", device="auto"), taco.ELIC)
    assert_type(taco.train.load_config(None), taco.train.TrainConfig)
    assert_type(taco.official.import_checkpoint("ckpt.pth.tar"), taco.ELIC)
    assert_type(taco.demo.sample_dir(), Path)
    try:
        taco.decompress(b"", None)
    except (taco.TacoFormatError, taco.ImageReadError, taco.CaptionTooLongError) as e:
        assert_type(e, taco.TacoFormatError | taco.ImageReadError | taco.CaptionTooLongError)
    try:
        taco.compress(photo, "a cat", model)
    except taco.TacoError as e:  # every error taco raises on purpose
        assert_type(e, taco.TacoError)
    try:
        taco.compress(photo, "a cat", model, quality=9)
    except taco.TacoValueError as e:  # a bad argument value: a TacoError and a ValueError
        assert_type(e, taco.TacoValueError)
        error: taco.TacoError = e
        value_error: ValueError = e
        assert error is value_error
    # a misspelled name is an error, not Any (the ignores must be used: warn_unused_ignores)
    taco.decompres(data)  # type: ignore[attr-defined]
    taco.models.lod("elic-tiny")  # type: ignore[attr-defined]
    taco.train.load_confg(None)  # type: ignore[attr-defined]
    taco.evaluation.evaluate_modle  # type: ignore[attr-defined]  # noqa: B018
    taco.official.import_checkpont  # type: ignore[attr-defined]  # noqa: B018
    taco.compress(photo, 42, model)  # type: ignore[arg-type]


def file_objects(upload: IO[bytes], archive: zipfile.ZipFile, model: taco.ELIC) -> None:
    """Images and .taco files as binary file objects: typed IO[bytes] (zipfile, tarfile,
    subprocess, a web framework's upload), not only BinaryIO."""
    data = taco.compress(upload, "a cat", model)
    with archive.open("photo.png") as member:
        assert_type(taco.compress_image(member, "a cat", model), CompressResult)
    assert_type(taco.compress_batch([upload, io.BytesIO(data)], None, model), list[CompressResult])
    with tempfile.SpooledTemporaryFile() as spooled:
        spooled.write(data)
        spooled.seek(0)
        assert_type(taco.info(spooled), taco.TacoFile)
        spooled.seek(0)
        assert_type(taco.decompress(spooled), Image.Image)
    with archive.open("photo.taco") as member:
        assert_type(taco.info(member), TacoFile)
        assert_type(taco.decompress(member, model), Image.Image)
