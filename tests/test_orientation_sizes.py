"""The size ``taco compress --skip-existing`` expects of a photo (:func:`taco.images.upright_sizes`,
from the header alone) is the size :func:`taco.images.load_image` gives it, and the orientation
load_image applied is recorded, for every format Pillow writes here and EXIF orientations 1..8.

Pillow's TIFF reader gives the size already upright at open and turns the pixels itself as it
decodes, removing the tag: upright_sizes swapped a sideways TIFF's sides a second time (so
--skip-existing refused the .taco that taco had written for it), and the report lost its
"(EXIF orientation 6 applied)"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, features

from taco.images import load_image, upright_sizes
from taco.suffixes import HEIF_SUFFIXES, IMAGE_SUFFIXES, folder_images

ORIENTATION = 0x0112


def _exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return exif


# name: (suffix, mode, save options); each is written 24 wide and 16 high
FORMATS = {
    "jpeg": (".jpg", "RGB", {}),
    "png": (".png", "RGB", {}),
    "webp": (".webp", "RGB", {"lossless": True}),
    "tiff": (".tif", "RGB", {}),
    "tiff-lzw": (".tif", "RGB", {"compression": "tiff_lzw"}),  # decoded by libtiff
    "tiff-1bit": (".tif", "1", {}),
    "tiff-1bit-g4": (".tif", "1", {"compression": "group4"}),
    "mpo": (".mpo", "RGB", {"save_all": True}),
    "avif": (".avif", "RGB", {}),
}


def _write(folder: Path, name: str, orientation: int) -> Path:
    suffix, mode, options = FORMATS[name]
    if name == "avif" and not features.check("avif"):
        pytest.skip("this Pillow writes no AVIF")
    y, x = np.mgrid[0:16, 0:24]
    pixels = np.stack([x * 10, y * 15, (x * y) % 256], axis=-1).astype(np.uint8)
    image = Image.fromarray(pixels).convert(mode)
    path = folder / f"{name}-{orientation}{suffix}"
    if suffix == ".tif":  # the orientation is a tag of the TIFF's own IFD
        image.save(path, tiffinfo={ORIENTATION: orientation}, **options)
    else:
        image.save(path, exif=_exif(orientation), **options)
    return path


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("name", FORMATS)
def test_upright_sizes_is_the_size_load_image_gives(tmp_path, name, orientation):
    path = _write(tmp_path, name, orientation)
    loaded = load_image(path)
    upright = (16, 24) if orientation in (5, 6, 7, 8) else (24, 16)
    assert loaded.size == upright
    assert upright_sizes(path) == [loaded.size]
    assert loaded.info.get("exif_orientation", 1) == orientation


@pytest.mark.parametrize("orientation", range(2, 9))
def test_a_tiff_is_turned_once_as_a_png_is(tmp_path, orientation):
    """Pillow turns a TIFF as it decodes; load_image must not turn it again."""
    tiff = load_image(_write(tmp_path, "tiff", orientation))
    png = load_image(_write(tmp_path, "png", orientation))
    assert np.array_equal(np.asarray(tiff), np.asarray(png))


def test_an_mpo_in_a_folder_is_an_image(tmp_path):
    """A phone's multi-picture JPEG was read when named, and left out of a folder."""
    path = _write(tmp_path, "mpo", 1)
    assert load_image(path).size == (24, 16)
    assert folder_images(tmp_path) == [path.name]


def test_every_suffix_is_a_format_pillow_reads_by_that_name():
    """The folder suffixes are image formats Pillow knows (HEIF's through pillow-heif)."""
    Image.init()
    known = Image.registered_extensions()
    assert {s for s in IMAGE_SUFFIXES - HEIF_SUFFIXES if s not in known} == set()
    assert {".mpo", ".jfif", ".jpe", ".hif"} <= IMAGE_SUFFIXES


def test_a_hif_photo_is_read_as_heif(tmp_path):
    """Canon and Fujifilm cameras name their HEIF photos .HIF."""
    pillow_heif = pytest.importorskip("pillow_heif")
    path = tmp_path / "IMG_0001.HIF"
    pillow_heif.from_pillow(Image.new("RGB", (24, 16), (200, 30, 60))).save(path, quality=90)
    assert load_image(path).size == (24, 16)
    assert folder_images(tmp_path) == [path.name]


def test_skip_existing_takes_a_sideways_tiff_taco_wrote(tmp_path, capsys):
    """``taco compress --skip-existing`` refused the .taco of a sideways TIFF it had written
    ("holds a 16x24 image, not this 24x16 one"), and the report did not say it turned it."""
    from taco.cli import main

    path = _write(tmp_path, "tiff", 6)
    code = ["compress", str(path), "--caption", "", "-m", "elic-tiny"]
    assert main(code) == 0
    assert f"{path.with_suffix('.taco')}: 16x24 (EXIF orientation 6 applied), " in capsys.readouterr().out
    assert main([*code, "--skip-existing"]) == 0
    assert capsys.readouterr().out == "compressed 0 images (1 skipped: their outputs exist)\n"
